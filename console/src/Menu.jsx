// The side menu: every resource page, and the pages that are not resources: the platform
// administrator's server status, a tenant administrator's sessions and invitations. The layout
// also signs the console out when the session ends by itself (refresh.js).
import { useEffect } from 'react';
import { Layout, Menu, useLogout, usePermissions } from 'react-admin';
import Devices from '@mui/icons-material/Devices';
import MonitorHeart from '@mui/icons-material/MonitorHeart';
import { SESSION_ENDED } from './refresh';

function ConsoleMenu() {
    const { permissions } = usePermissions();
    return (
        <Menu>
            <Menu.ResourceItems />
            {permissions === 'platform' && <Menu.Item to="/status" primaryText="Server status" leftIcon={<MonitorHeart />} />}
            {permissions === 'tenant' && <Menu.Item to="/sessions" primaryText="Sessions and invitations" leftIcon={<Devices />} />}
        </Menu>
    );
}

/** Back to the sign-in screen when a refresh was refused (the session is already forgotten). */
function SignOutWhenSessionEnds() {
    const logout = useLogout();
    useEffect(() => {
        const ended = () => logout();
        window.addEventListener(SESSION_ENDED, ended);
        return () => window.removeEventListener(SESSION_ENDED, ended);
    }, [logout]);
    return null;
}

export function ConsoleLayout({ children }) {
    return (
        <Layout menu={ConsoleMenu}>
            <SignOutWhenSessionEnds />
            {children}
        </Layout>
    );
}
