// Tenants: search by name, filter by plan and status, sort by any column, page.
import {
    ChipField, CreateButton, Datagrid, DateField, FilterButton, List, NumberField, SearchInput,
    SelectInput, SimpleList, TextField, TopToolbar, FunctionField, Button,
} from 'react-admin';
import { useMediaQuery } from '@mui/material';
import { Link } from 'react-router-dom';
import { PLANS, STATUSES } from './choices';

const filters = [
    <SearchInput key="q" source="name@ilike" placeholder="Search by name" alwaysOn />,
    <SelectInput key="plan" source="plan" choices={PLANS} />,
    <SelectInput key="status" source="status" choices={STATUSES} />,
];

function Actions() {
    return (
        <TopToolbar>
            <FilterButton />
            <CreateButton />
            <Button component={Link} to="/tenants/bulk" label="Bulk create" />
        </TopToolbar>
    );
}

export function TenantList() {
    const phone = useMediaQuery((theme) => theme.breakpoints.down('sm'));
    return (
        <List filters={filters} actions={<Actions />} sort={{ field: 'slug', order: 'ASC' }} perPage={25}>
            {phone ? (
                <SimpleList primaryText={(t) => t.name} secondaryText={(t) => `${t.slug} · ${t.plan} · ${t.status}`} linkType="show" />
            ) : (
                <Datagrid rowClick="show" bulkActionButtons={false}>
                    <TextField source="slug" />
                    <TextField source="name" />
                    <ChipField source="status" />
                    <TextField source="plan" />
                    <FunctionField label="Modules" sortable={false} render={(t) => (t.modules ?? []).join(', ')} />
                    <NumberField source="companies" />
                    <DateField source="erase_after" label="Erased after" emptyText="" />
                </Datagrid>
            )}
        </List>
    );
}
