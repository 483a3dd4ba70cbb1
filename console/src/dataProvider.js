// react-admin's data: ra-data-postgrest speaks PostgREST's grammar to this server, in schema
// platform for the platform administrator and api for a tenant's. Tenants are views: creating
// and changing one goes through the platform API's functions instead of INSERT / PATCH.
import postgrestRestProvider from '@raphiniert/ra-data-postgrest';
import { apiUrl, currentSession, isPlatform } from './session';
import { rpc, send } from './api';

const base = postgrestRestProvider({
    apiUrl,
    httpClient: send,
    defaultListOp: 'eq',
    primaryKeys: new Map([
        ['modules', ['key']],
        ['tenant_roles', ['name']],
        ['company_configuration', ['company_id', 'module']],
        // one row of counts: any column serves as its id
        ['stats', ['tenants']],
    ]),
    schema: () => (isPlatform(currentSession()) ? 'platform' : 'api'),
});

const TENANT_FIELDS = ['name', 'plan', 'contact_email', 'theme'];

function pick(data, fields) {
    return Object.fromEntries(fields.filter((f) => data[f] !== undefined && data[f] !== '').map((f) => [f, data[f]]));
}

export const dataProvider = {
    ...base,
    create: async (resource, params) => {
        if (resource !== 'tenants') return base.create(resource, params);
        const args = pick(params.data, ['slug', ...TENANT_FIELDS, 'modules']);
        return { data: await rpc('platform', 'create_tenant', args) };
    },
    update: async (resource, params) => {
        if (resource !== 'tenants') return base.update(resource, params);
        const args = { id: params.id, ...pick(params.data, TENANT_FIELDS) };
        return { data: await rpc('platform', 'update_tenant', args) };
    },
};
