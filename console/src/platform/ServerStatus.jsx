// This server's status for the platform administrator (GET /platform/v1/status): its real-time
// slot (name, whether it streams, confirmed position and lag) with every logical slot of the
// database, its open sockets and channels, and the per-tenant rate limit with the 429s of late.
import { useCallback, useEffect, useState } from 'react';
import { Title } from 'react-admin';
import { Alert, Box, Button, Card, CardContent, Grid, Table, TableBody, TableCell, TableHead, TableRow, Typography } from '@mui/material';
import { call } from '../api';

function Figures({ title, rows, label }) {
    return (
        <Card variant="outlined" component="section" aria-label={label ?? title}>
            <CardContent>
                <Typography variant="h6" component="h2" gutterBottom>{title}</Typography>
                <Table size="small">
                    <TableBody>
                        {rows.map(([name, value, key]) => (
                            <TableRow key={name}>
                                <TableCell component="th" scope="row">{name}</TableCell>
                                <TableCell className={`status-${key}`} sx={{ fontFamily: 'monospace', wordBreak: 'break-all' }}>{value ?? '—'}</TableCell>
                            </TableRow>
                        ))}
                    </TableBody>
                </Table>
            </CardContent>
        </Card>
    );
}

const bytes = (n) => (n === null || n === undefined ? null : n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`);

function Realtime({ realtime }) {
    const slot = realtime.slot_state;
    return (
        <Figures
            title="Real-time"
            rows={[
                ['Slot', realtime.changes ? realtime.slot : 'Postgres Changes off', 'slot'],
                ['Streaming', realtime.changes ? (realtime.streaming ? 'yes' : 'no') : null, 'streaming'],
                ['Confirmed LSN', slot?.confirmed_flush_lsn, 'confirmed'],
                ['Lag', bytes(slot?.lag_bytes), 'lag'],
                ['Connected sockets', String(realtime.sockets), 'sockets'],
                ['Channels', `${realtime.channels} (${realtime.memberships} joined, ${realtime.tenants} tenants)`, 'channels'],
            ]}
        />
    );
}

function RateLimit({ limit }) {
    if (!limit.enabled) return <Figures title="Rate limit" rows={[['Limit', 'off (TENANCY_RATE_LIMIT_RPS is 0)', 'limit']]} />;
    const { refused } = limit;
    return (
        <Figures
            title="Rate limit"
            rows={[
                ['Limit per tenant', `${limit.per_second} requests/s, bursts of ${limit.burst}`, 'limit'],
                ['429s in the last minute', String(refused.last_minute), 'refused-minute'],
                ['429s in the last hour', String(refused.last_hour), 'refused-hour'],
                ['429s since start', String(refused.since_start), 'refused-total'],
                ['Most refused tenants', refused.by_tenant.map((t) => `${t.slug ?? t.tenant_id}: ${t.refused}`).join(', ') || null, 'refused-tenants'],
            ]}
        />
    );
}

function Slots({ slots }) {
    return (
        <Card variant="outlined" component="section" aria-label="Replication slots">
            <CardContent sx={{ overflowX: 'auto' }}>
                <Typography variant="h6" component="h2" gutterBottom>Replication slots of the database</Typography>
                <Table size="small">
                    <TableHead>
                        <TableRow>
                            <TableCell>Slot</TableCell>
                            <TableCell>Active</TableCell>
                            <TableCell>Confirmed LSN</TableCell>
                            <TableCell>Lag</TableCell>
                        </TableRow>
                    </TableHead>
                    <TableBody>
                        {slots.map((s) => (
                            <TableRow key={s.slot_name} data-slot={s.slot_name}>
                                <TableCell>{s.slot_name}</TableCell>
                                <TableCell>{s.active ? 'yes' : 'no'}</TableCell>
                                <TableCell>{s.confirmed_flush_lsn ?? '—'}</TableCell>
                                <TableCell>{bytes(s.lag_bytes) ?? '—'}</TableCell>
                            </TableRow>
                        ))}
                    </TableBody>
                </Table>
            </CardContent>
        </Card>
    );
}

export function ServerStatus() {
    const [status, setStatus] = useState(null);
    const [error, setError] = useState(null);
    const load = useCallback(async () => {
        try {
            setStatus((await call('/platform/v1/status')).json);
            setError(null);
        } catch (e) {
            setError(e.message);
        }
    }, []);
    useEffect(() => {
        load();
    }, [load]);
    return (
        <Box sx={{ mt: 2 }}>
            <Title title="Server status" />
            <Button variant="outlined" onClick={load} sx={{ mb: 2 }}>Refresh</Button>
            {error && <Alert severity="error" role="alert">{error}</Alert>}
            {status && (
                <Grid container spacing={2}>
                    <Grid size={{ xs: 12, md: 6 }}>
                        <Realtime realtime={status.realtime} />
                    </Grid>
                    <Grid size={{ xs: 12, md: 6 }}>
                        <RateLimit limit={status.rate_limit} />
                    </Grid>
                    <Grid size={{ xs: 12 }}>
                        <Slots slots={status.replication_slots} />
                    </Grid>
                </Grid>
            )}
        </Box>
    );
}
