// The platform at a glance, aggregates only: tenants by status and by plan (platform.stats),
// and module adoption, how many tenants enabled each (platform.modules).
import { Title, useGetList } from 'react-admin';
import { Alert, Box, Card, CardContent, Grid, Typography } from '@mui/material';

function Bars({ title, rows }) {
    const most = Math.max(1, ...rows.map((r) => r.value));
    return (
        <Card variant="outlined" component="section" aria-label={title}>
            <CardContent>
                <Typography variant="h6" component="h2" gutterBottom>{title}</Typography>
                {rows.map((r) => (
                    <Box key={r.label} data-bar={r.label} sx={{ display: 'flex', alignItems: 'center', gap: 1, mb: 0.5 }}>
                        <Box sx={{ width: 120, flexShrink: 0 }}>{r.label}</Box>
                        <Box sx={{ flexGrow: 1 }}>
                            <Box sx={{ width: `${(100 * r.value) / most}%`, minWidth: 2, height: 14, bgcolor: 'primary.main', borderRadius: 0.5 }} />
                        </Box>
                        <Box className="bar-value" sx={{ width: 40, textAlign: 'right' }}>{r.value}</Box>
                    </Box>
                ))}
            </CardContent>
        </Card>
    );
}

export function Overview() {
    const stats = useGetList('stats', { pagination: { page: 1, perPage: 1 } });
    const modules = useGetList('modules', { sort: { field: 'sort_order', order: 'ASC' }, pagination: { page: 1, perPage: 100 } });
    const s = stats.data?.[0];
    const error = stats.error ?? modules.error;
    return (
        <Box sx={{ mt: 2 }}>
            <Title title="Overview" />
            {error && <Alert severity="error" role="alert">{error.message}</Alert>}
            {s && (
                <Grid container spacing={2}>
                    <Grid size={{ xs: 12, md: 6 }}>
                        <Bars title="Tenants" rows={[{ label: 'active', value: s.active }, { label: 'suspended', value: s.suspended }]} />
                    </Grid>
                    <Grid size={{ xs: 12, md: 6 }}>
                        <Bars title="Tenants by plan" rows={Object.entries(s.by_plan ?? {}).map(([label, value]) => ({ label, value }))} />
                    </Grid>
                    <Grid size={{ xs: 12 }}>
                        <Bars title="Module adoption" rows={(modules.data ?? []).filter((m) => !m.is_core).map((m) => ({ label: m.name, value: m.tenants_enabled }))} />
                    </Grid>
                </Grid>
            )}
        </Box>
    );
}
