// The tenant's own event log (api.events, users:audit): newest first, filter by action.
import { Datagrid, DateField, FunctionField, List, TextField, TextInput } from 'react-admin';

const filters = [<TextInput key="action" source="action@like" label="Action (like row.*)" alwaysOn />];

export function AuditLog() {
    return (
        <List filters={filters} sort={{ field: 'at', order: 'DESC' }} perPage={25} exporter={false}>
            <Datagrid bulkActionButtons={false} rowClick={false}>
                <DateField source="at" showTime />
                <TextField source="action" />
                <TextField source="actor" />
                <FunctionField label="Detail" render={(e) => <code>{JSON.stringify(e.detail)}</code>} />
            </Datagrid>
        </List>
    );
}
