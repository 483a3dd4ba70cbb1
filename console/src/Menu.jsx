// The side menu: every resource page, and for a tenant administrator the sessions and
// invitations page (a page of its own, not a resource).
import { Layout, Menu, usePermissions } from 'react-admin';
import Devices from '@mui/icons-material/Devices';

function ConsoleMenu() {
    const { permissions } = usePermissions();
    return (
        <Menu>
            <Menu.ResourceItems />
            {permissions === 'tenant' && <Menu.Item to="/sessions" primaryText="Sessions and invitations" leftIcon={<Devices />} />}
        </Menu>
    );
}

export function ConsoleLayout({ children }) {
    return <Layout menu={ConsoleMenu}>{children}</Layout>;
}
