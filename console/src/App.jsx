// The console: react-admin under /console (real paths, so a page can be bookmarked and
// reloaded: the server answers every /console/ path with this page), its pages chosen by who
// signed in.
import { Admin, CustomRoutes, Resource } from 'react-admin';
import { BrowserRouter, Route } from 'react-router-dom';
import { authProvider } from './authProvider';
import { dataProvider } from './dataProvider';
import { SignIn } from './SignIn';
import { ConsoleLayout } from './Menu';
import { TenantList } from './platform/TenantList';
import { TenantShow } from './platform/TenantShow';
import { TenantCreate, TenantEdit } from './platform/TenantForms';
import { BulkCreate } from './platform/BulkCreate';
import { Overview } from './platform/Overview';
import { ServerStatus } from './platform/ServerStatus';
import { ModuleList } from './tenant/ModuleList';
import { AuditLog } from './tenant/AuditLog';
import { Configuration } from './tenant/Configuration';
import { MemberList } from './tenant/MemberList';
import { RoleList } from './tenant/RoleList';
import { Sessions } from './tenant/Sessions';

function platformPages() {
    return [
        <Resource key="tenants" name="tenants" list={TenantList} show={TenantShow} create={TenantCreate} edit={TenantEdit} recordRepresentation="name" />,
        <Resource key="stats" name="stats" options={{ label: 'Overview' }} list={Overview} />,
        <Resource key="companies" name="companies" />,
        <Resource key="modules" name="modules" />,
        <Resource key="events" name="events" />,
        <CustomRoutes key="routes">
            <Route path="/tenants/bulk" element={<BulkCreate />} />
            <Route path="/status" element={<ServerStatus />} />
        </CustomRoutes>,
    ];
}

function tenantAdminPages() {
    return [
        <Resource key="modules" name="modules" list={ModuleList} />,
        <Resource key="members" name="members" list={MemberList} />,
        <Resource key="tenant_roles" name="tenant_roles" options={{ label: 'Roles' }} list={RoleList} />,
        <Resource key="company_configuration" name="company_configuration" options={{ label: 'Configuration' }} list={Configuration} />,
        <Resource key="events" name="events" options={{ label: 'Audit log' }} list={AuditLog} />,
        <CustomRoutes key="routes">
            <Route path="/sessions" element={<Sessions />} />
        </CustomRoutes>,
    ];
}

export function App() {
    return (
        <BrowserRouter basename="/console">
            <Admin
            title="Tenancy console"
            authProvider={authProvider}
            dataProvider={dataProvider}
            loginPage={SignIn}
            layout={ConsoleLayout}
            requireAuth
            disableTelemetry
        >
            {(kind) => (kind === 'platform' ? platformPages() : kind === 'tenant' ? tenantAdminPages() : [])}
            </Admin>
        </BrowserRouter>
    );
}
