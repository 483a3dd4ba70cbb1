// The tenant's modules as api.modules shows them: enabled, or locked with why and what
// unlocks it (a higher plan, the platform enabling it, a company override). A list of lines on
// a phone, a table elsewhere.
import { BooleanField, Button, Datagrid, FunctionField, List, SimpleList, TextField, useNotify } from 'react-admin';
import { useMediaQuery } from '@mui/material';
import { rpc } from '../api';

const WHY = {
    plan: (m) => `Needs the ${m.required_tier} plan: ask the platform to upgrade your plan.`,
    company: () => 'Off for your company.',
    not_enabled: () => 'Ask the platform administrator to enable it.',
};

const locked = (m) => (m.enabled ? '' : WHY[m.reason]?.(m) ?? m.reason);

// Asks the platform for a module the plan locks (api.request_upgrade: the tenant's event log).
function RequestUpgrade({ module: m }) {
    const notify = useNotify();
    if (!m.upgrade) return null;
    const request = async () => {
        try {
            await rpc('api', 'request_upgrade', { module: m.key });
            notify(`Upgrade for ${m.name} requested from the platform`, { type: 'success' });
        } catch (e) {
            notify(e.message, { type: 'error' });
        }
    };
    return <Button label="Request upgrade" onClick={request} />;
}

export function ModuleList() {
    const phone = useMediaQuery((theme) => theme.breakpoints.down('sm'));
    return (
        <List pagination={false} sort={{ field: 'sort_order', order: 'ASC' }} perPage={100} exporter={false}>
            {phone ? (
                <SimpleList
                    primaryText={(m) => m.name}
                    secondaryText={(m) => (m.enabled ? 'Enabled' : locked(m))}
                    tertiaryText={(m) => <RequestUpgrade module={m} />}
                    linkType={false}
                />
            ) : (
                <Datagrid bulkActionButtons={false} rowClick={false}>
                    <TextField source="name" />
                    <TextField source="description" />
                    <BooleanField source="enabled" />
                    <FunctionField label="Locked" render={locked} />
                    <FunctionField label="" render={(m) => <RequestUpgrade module={m} />} />
                </Datagrid>
            )}
        </List>
    );
}
