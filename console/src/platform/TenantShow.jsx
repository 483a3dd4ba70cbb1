// A tenant's page: profile and theme, plan, companies, the module grid with configuration,
// health and usage, its event log; suspend / activate / delete in the toolbar.
import {
    ChipField, Datagrid, DateField, EditButton, FunctionField, Pagination,
    ReferenceManyField, Show, TabbedShowLayout, TextField, TopToolbar, useRecordContext, useGetOne,
} from 'react-admin';
import { Typography } from '@mui/material';
import { LifecycleButtons } from './Lifecycle';
import { ModuleGrid } from './ModuleGrid';
import { ThemePreviewBox } from './ThemePreview';
import { EventGrid } from '../EventGrid';

function Actions() {
    return (
        <TopToolbar>
            <EditButton />
            <LifecycleButtons />
        </TopToolbar>
    );
}

function Theme() {
    const tenant = useRecordContext();
    return tenant ? <ThemePreviewBox name={tenant.name} theme={tenant.theme} /> : null;
}

function Health() {
    const tenant = useRecordContext();
    const { data, error } = useGetOne('tenant_health', { id: tenant?.id }, { enabled: !!tenant });
    if (error) return <Typography role="alert" color="error">{error.message}</Typography>;
    if (!data) return null;
    return (
        <dl className="health">
            <dt>Last activity</dt><dd>{data.last_activity ?? 'none'}</dd>
            <dt>Events in the last 30 days</dt><dd>{data.events_last_30_days}</dd>
            <dt>Rows per protected table</dt>
            <dd><pre style={{ margin: 0 }}>{JSON.stringify(data.rows, null, 1)}</pre></dd>
        </dl>
    );
}

export function TenantShow() {
    return (
        <Show actions={<Actions />}>
            <TabbedShowLayout>
                <TabbedShowLayout.Tab label="Profile">
                    <TextField source="slug" />
                    <TextField source="name" />
                    <ChipField source="status" />
                    <TextField source="plan" />
                    <TextField source="contact_email" emptyText="—" />
                    <DateField source="erase_after" label="Erased after" emptyText="not scheduled" showTime />
                    <FunctionField label="Theme" render={() => <Theme />} />
                </TabbedShowLayout.Tab>
                <TabbedShowLayout.Tab label="Modules" path="modules">
                    <ModuleGrid />
                </TabbedShowLayout.Tab>
                <TabbedShowLayout.Tab label="Companies" path="companies">
                    <ReferenceManyField reference="companies" target="tenant_id" sort={{ field: 'name', order: 'ASC' }} label={false}>
                        <Datagrid bulkActionButtons={false}>
                            <TextField source="name" />
                            <FunctionField label="Module overrides" render={(c) => <code>{JSON.stringify(c.module_overrides)}</code>} />
                            <DateField source="created_at" />
                        </Datagrid>
                    </ReferenceManyField>
                </TabbedShowLayout.Tab>
                <TabbedShowLayout.Tab label="Health" path="health">
                    <Health />
                </TabbedShowLayout.Tab>
                <TabbedShowLayout.Tab label="Event log" path="events">
                    <ReferenceManyField reference="events" target="tenant_id" sort={{ field: 'at', order: 'DESC' }} perPage={20} pagination={<Pagination />} label={false}>
                        <EventGrid />
                    </ReferenceManyField>
                </TabbedShowLayout.Tab>
            </TabbedShowLayout>
        </Show>
    );
}
