// Rows of an event log (platform.events or api.events), newest first by the caller's sort.
import { Datagrid, DateField, FunctionField, TextField } from 'react-admin';

export function EventGrid() {
    return (
        <Datagrid bulkActionButtons={false} rowClick={false}>
            <DateField source="at" showTime />
            <TextField source="action" />
            <TextField source="actor" />
            <FunctionField label="Detail" render={(e) => <code>{JSON.stringify(e.detail)}</code>} />
        </Datagrid>
    );
}
