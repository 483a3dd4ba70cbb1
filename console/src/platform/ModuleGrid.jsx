// A tenant's module grid (platform.module_grid: what api.modules shows the tenant): enabled,
// available (enable), locked with the reason and the plan that unlocks it; and, per module,
// the configuration at its three levels with the merged result, for the tenant or a company.
import { useState } from 'react';
import { Button, useGetList, useNotify, useRecordContext } from 'react-admin';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Card, CardActions, CardContent, Chip, Grid, MenuItem, Stack, TextField as MuiTextField, Typography } from '@mui/material';
import { rpc } from '../api';
import { ConfigEditor, ConfigJson } from '../ConfigJson';

const REASONS = {
    plan: (m) => `Locked: needs the ${m.required_tier} plan. Upgrade the tenant's plan to ${m.required_tier} or higher to enable it.`,
    company: () => 'Off for this company (a company override).',
    not_enabled: () => 'Available: not enabled for this tenant.',
};

function state(m) {
    if (m.enabled) return { label: 'enabled', color: 'success' };
    return m.upgrade ? { label: 'locked', color: 'warning' } : { label: 'available', color: 'default' };
}

// The configuration of the level in view (the tenant's, or the company's).
function LevelEditor({ module: m, tenant, company, onChanged }) {
    const notify = useNotify();
    const save = async (config) => {
        if (company) {
            await rpc('platform', 'set_company_module', { company_id: company, module: m.key, enabled: m.reason !== 'company', config });
        } else {
            await rpc('platform', 'enable_module', { tenant_id: tenant.id, module: m.key, config });
        }
        notify(`${m.name}: configuration saved`, { type: 'success' });
        onChanged();
    };
    const label = `${m.name} ${company ? 'company' : 'tenant'} configuration`;
    return <ConfigEditor label={label} value={company ? m.company_config : m.tenant_config} save={save} />;
}

function ModuleCard({ module: m, tenant, onChanged, company }) {
    const notify = useNotify();
    const s = state(m);
    const change = async (fn) => {
        try {
            await rpc('platform', fn, { tenant_id: tenant.id, module: m.key });
            notify(`${m.name}: ${fn === 'enable_module' ? 'enabled' : 'disabled'}`, { type: 'success' });
        } catch (e) {
            notify(e.message, { type: 'error' });
        }
        onChanged();
    };
    return (
        <Card variant="outlined" data-module={m.key} data-state={s.label} sx={{ height: '100%' }}>
            <CardContent>
                <Stack direction="row" spacing={1} sx={{ alignItems: 'center', mb: 1 }}>
                    <Typography variant="h6" component="h3">{m.name}</Typography>
                    <Chip size="small" label={s.label} color={s.color} />
                </Stack>
                <Typography variant="body2" color="text.secondary">{m.description}</Typography>
                {m.reason && <Typography variant="body2" className="reason" sx={{ mt: 1 }}>{REASONS[m.reason]?.(m) ?? m.reason}</Typography>}
                <Stack spacing={1} sx={{ mt: 1 }} className="configuration">
                    <ConfigJson label="Module defaults" value={m.defaults} />
                    <ConfigJson label="Tenant" value={m.tenant_config} />
                    {company && <ConfigJson label="Company" value={m.company_config} />}
                    <ConfigJson label="Merged" value={m.merged_config} />
                    {(m.enabled || (company && m.reason === 'company')) && (
                        <LevelEditor key={JSON.stringify([company, m.tenant_config, m.company_config])} module={m} tenant={tenant} company={company} onChanged={onChanged} />
                    )}
                </Stack>
            </CardContent>
            {!m.is_core && !company && (
                <CardActions>
                    {m.enabled && <Button label="Disable" onClick={() => change('disable_module')} />}
                    {!m.enabled && !m.upgrade && <Button label="Enable" onClick={() => change('enable_module')} />}
                </CardActions>
            )}
        </Card>
    );
}

export function ModuleGrid() {
    const tenant = useRecordContext();
    const queryClient = useQueryClient();
    const [company, setCompany] = useState('');
    const { data: companies = [] } = useGetList('companies', {
        filter: { tenant_id: tenant?.id },
        sort: { field: 'name', order: 'ASC' },
        pagination: { page: 1, perPage: 100 },
    });
    const key = ['module_grid', tenant?.id, company];
    const grid = useQuery({
        queryKey: key,
        queryFn: () => rpc('platform', 'module_grid', { tenant_id: tenant.id, company_id: company || null }),
        enabled: !!tenant,
    });
    const changed = () => queryClient.invalidateQueries({ queryKey: ['module_grid', tenant.id] });
    return (
        <Stack spacing={2}>
            <MuiTextField select label="Configuration seen by" value={company} onChange={(e) => setCompany(e.target.value)} sx={{ maxWidth: 360 }} id="company-choice">
                <MenuItem value="">The tenant</MenuItem>
                {companies.map((c) => <MenuItem key={c.id} value={c.id}>{c.name}</MenuItem>)}
            </MuiTextField>
            {grid.error && <Alert severity="error" role="alert">{grid.error.message}</Alert>}
            <Grid container spacing={2}>
                {(grid.data ?? []).map((m) => (
                    <Grid key={m.key} size={{ xs: 12, sm: 6, md: 4 }}>
                        <ModuleCard module={m} tenant={tenant} company={company} onChanged={changed} />
                    </Grid>
                ))}
            </Grid>
        </Stack>
    );
}
