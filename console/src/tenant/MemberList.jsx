// The tenant's members (api.members): who may sign in, with their tenant roles.
import { ChipField, Datagrid, DateField, FunctionField, List, TextField } from 'react-admin';

export function MemberList() {
    return (
        <List sort={{ field: 'email', order: 'ASC' }} perPage={25} exporter={false}>
            <Datagrid bulkActionButtons={false} rowClick={false}>
                <TextField source="email" />
                <FunctionField label="Tenant roles" render={(m) => m.tenant_roles.join(', ')} />
                <ChipField source="status" />
                <DateField source="joined_at" />
                <DateField source="last_sign_in_at" showTime emptyText="never" />
            </Datagrid>
        </List>
    );
}
