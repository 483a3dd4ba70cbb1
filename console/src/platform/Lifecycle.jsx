// Suspend, activate, schedule deletion, restore: each asks for confirmation, then calls the
// platform API's function; the page shows the tenant as the function returns it.
import { useState } from 'react';
import { Button, Confirm, useNotify, useRecordContext, useRefresh } from 'react-admin';
import { rpc } from '../api';

const ACTIONS = {
    suspend_tenant: { label: 'Suspend', says: 'Its users are refused until it is activated again.' },
    activate_tenant: { label: 'Activate', says: 'Its users may sign in and call the API again.' },
    delete_tenant: { label: 'Delete', says: 'The tenant is suspended now and erased in 30 days unless restored.' },
    restore_tenant: { label: 'Restore', says: 'The scheduled deletion is cancelled; the tenant gets its former status.' },
};

function LifecycleButton({ action }) {
    const tenant = useRecordContext();
    const notify = useNotify();
    const refresh = useRefresh();
    const [open, setOpen] = useState(false);
    const { label, says } = ACTIONS[action];
    const confirm = async () => {
        setOpen(false);
        try {
            await rpc('platform', action, { id: tenant.id });
            notify(`${tenant.name}: ${label.toLowerCase()} done`, { type: 'success' });
        } catch (e) {
            notify(e.message, { type: 'error' });
        }
        refresh();
    };
    return (
        <>
            <Button label={label} onClick={() => setOpen(true)} color={action === 'delete_tenant' ? 'error' : 'primary'} />
            <Confirm
                isOpen={open}
                title={`${label} ${tenant.name}?`}
                content={says}
                confirm={label}
                onConfirm={confirm}
                onClose={() => setOpen(false)}
            />
        </>
    );
}

export function LifecycleButtons() {
    const tenant = useRecordContext();
    if (!tenant) return null;
    if (tenant.erase_after) return <LifecycleButton action="restore_tenant" />;
    return (
        <>
            <LifecycleButton action={tenant.status === 'active' ? 'suspend_tenant' : 'activate_tenant'} />
            <LifecycleButton action="delete_tenant" />
        </>
    );
}
