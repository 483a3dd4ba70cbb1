// The tenant's own event log (api.events, users:audit): newest first, filter by action.
import { List, TextInput } from 'react-admin';
import { EventGrid } from '../EventGrid';

const filters = [<TextInput key="action" source="action@like" label="Action (like row.*)" alwaysOn />];

export function AuditLog() {
    return (
        <List filters={filters} sort={{ field: 'at', order: 'DESC' }} perPage={25} exporter={false}>
            <EventGrid />
        </List>
    );
}
