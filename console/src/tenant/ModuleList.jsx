// The tenant's modules as api.modules shows them: enabled, or locked with why and what
// unlocks it (a higher plan, the platform enabling it, a company override).
import { BooleanField, Datagrid, FunctionField, List, TextField } from 'react-admin';

const WHY = {
    plan: (m) => `Needs the ${m.required_tier} plan: ask the platform to upgrade your plan.`,
    company: () => 'Off for your company.',
    not_enabled: () => 'Ask the platform administrator to enable it.',
};

export function ModuleList() {
    return (
        <List pagination={false} sort={{ field: 'sort_order', order: 'ASC' }} perPage={100} exporter={false}>
            <Datagrid bulkActionButtons={false} rowClick={false}>
                <TextField source="name" />
                <TextField source="description" />
                <BooleanField source="enabled" />
                <FunctionField label="Locked" render={(m) => (m.enabled ? '' : WHY[m.reason]?.(m) ?? m.reason)} />
            </Datagrid>
        </List>
    );
}
