// The configuration of the tenant's companies (api.company_configuration): per company and
// enabled module, the module's defaults, the tenant's level (set by the platform), the
// company's, and the merge; the company's level is edited here (api.set_company_config).
import { ListBase, Title, useListContext, useNotify, useRefresh } from 'react-admin';
import { Card, CardContent, Grid, Stack, Typography } from '@mui/material';
import { rpc } from '../api';
import { ConfigEditor, ConfigJson } from '../ConfigJson';

function CompanyModule({ row }) {
    const notify = useNotify();
    const refresh = useRefresh();
    const save = async (config) => {
        await rpc('api', 'set_company_config', { company_id: row.company_id, module: row.module, config });
        notify(`${row.company}, ${row.module_name}: configuration saved`, { type: 'success' });
        refresh();
    };
    return (
        <Card variant="outlined" data-company={row.company} data-module={row.module} sx={{ height: '100%' }}>
            <CardContent>
                <Typography variant="h6" component="h3">{row.company}: {row.module_name}</Typography>
                <Stack spacing={1} sx={{ mt: 1 }}>
                    <ConfigJson label="Module defaults" value={row.defaults} />
                    <ConfigJson label="Tenant" value={row.tenant_config} />
                    <ConfigJson label="Company" value={row.company_config} />
                    <ConfigJson label="Merged" value={row.merged_config} />
                    <ConfigEditor key={JSON.stringify(row.company_config)} label={`${row.company} ${row.module_name} configuration`} value={row.company_config} save={save} />
                </Stack>
            </CardContent>
        </Card>
    );
}

function Rows() {
    const { data = [], error } = useListContext();
    if (error) return <Typography role="alert" color="error">{error.message}</Typography>;
    if (data.length === 0) return <Typography>No company has an enabled module.</Typography>;
    return (
        <Grid container spacing={2}>
            {data.map((row) => (
                <Grid key={row.id} size={{ xs: 12, md: 6 }}>
                    <CompanyModule row={row} />
                </Grid>
            ))}
        </Grid>
    );
}

export function Configuration() {
    return (
        <ListBase sort={{ field: 'company', order: 'ASC' }} perPage={200}>
            <Title title="Configuration of the companies" />
            <CardContent sx={{ px: 0 }}>
                <Rows />
            </CardContent>
        </ListBase>
    );
}
