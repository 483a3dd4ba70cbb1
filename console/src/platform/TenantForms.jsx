// Creating a tenant (platform.create_tenant) and changing one (platform.update_tenant): the
// API's refusals (a slug taken, TN021 a plan below an enabled module's tier) show as it says them.
import {
    CheckboxGroupInput, Create, Edit, ReferenceArrayInput, SaveButton, SelectInput, SimpleForm, TextInput, Toolbar,
    required,
} from 'react-admin';
import { PLANS } from './choices';
import { ThemeInput } from './ThemePreview';

export function TenantCreate() {
    return (
        <Create redirect="show">
            <SimpleForm>
                <TextInput source="slug" validate={required()} helperText="a-z, 0-9 and -: the tenant's subdomain" />
                <TextInput source="name" validate={required()} />
                <SelectInput source="plan" choices={PLANS} defaultValue="free" />
                <TextInput source="contact_email" type="email" />
                <ReferenceArrayInput source="modules" reference="modules" sort={{ field: 'sort_order', order: 'ASC' }}>
                    <CheckboxGroupInput optionValue="key" optionText="name" />
                </ReferenceArrayInput>
            </SimpleForm>
        </Create>
    );
}

// Save only: a tenant is deleted (scheduled for erasure) from its page, with confirmation.
function SaveOnly() {
    return (
        <Toolbar>
            <SaveButton />
        </Toolbar>
    );
}

export function TenantEdit() {
    return (
        <Edit mutationMode="pessimistic" redirect="show">
            <SimpleForm toolbar={<SaveOnly />}>
                <TextInput source="name" validate={required()} />
                <SelectInput source="plan" choices={PLANS} />
                <TextInput source="contact_email" type="email" />
                <ThemeInput />
            </SimpleForm>
        </Edit>
    );
}
