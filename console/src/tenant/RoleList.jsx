// The tenant's roles with their permissions and members (api.tenant_roles).
import { BooleanField, Datagrid, FunctionField, List, TextField } from 'react-admin';

export function RoleList() {
    return (
        <List pagination={false} sort={{ field: 'name', order: 'ASC' }} perPage={100} exporter={false}>
            <Datagrid bulkActionButtons={false} rowClick={false}>
                <TextField source="name" />
                <TextField source="description" />
                <FunctionField label="Permissions" render={(r) => r.permissions.join(', ')} />
                <FunctionField label="Members" render={(r) => r.members.length} />
                <BooleanField source="is_default" label="Platform default" />
            </Datagrid>
        </List>
    );
}
