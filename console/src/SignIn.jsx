// The sign-in screen: a tenant administrator's email and password, or the platform
// administrator's token. A refused sign-in shows the API's message in the form.
import { useState } from 'react';
import { useLogin } from 'react-admin';
import { Alert, Box, Button, Card, CardContent, Tab, Tabs, TextField, Typography } from '@mui/material';

function TenantAdminFields() {
    return (
        <>
            <TextField name="email" label="Email" type="email" autoComplete="username" required fullWidth margin="normal" autoFocus />
            <TextField name="password" label="Password" type="password" autoComplete="current-password" required fullWidth margin="normal" />
        </>
    );
}

function PlatformAdminFields() {
    return (
        <TextField
            name="token"
            label="Platform administrator's token"
            helperText="tenancy-api token - platform_admin"
            required
            fullWidth
            multiline
            minRows={3}
            margin="normal"
            autoFocus
        />
    );
}

export function SignIn() {
    const login = useLogin();
    const [who, setWho] = useState('tenant');
    const [error, setError] = useState(null);
    const [busy, setBusy] = useState(false);

    const submit = async (event) => {
        event.preventDefault();
        setBusy(true);
        setError(null);
        const form = Object.fromEntries(new FormData(event.currentTarget));
        try {
            await login(form, '/');
        } catch (e) {
            setError(e?.message ?? String(e));
        } finally {
            setBusy(false);
        }
    };

    return (
        <Box component="main" sx={{ display: 'flex', justifyContent: 'center', p: 2, minHeight: '100vh', bgcolor: 'grey.100' }}>
            <Card sx={{ width: '100%', maxWidth: 420, alignSelf: 'flex-start', mt: { xs: 2, sm: 10 } }}>
                <CardContent>
                    <Typography component="h1" variant="h5" gutterBottom>
                        Tenancy console
                    </Typography>
                    <Tabs value={who} onChange={(_, value) => { setWho(value); setError(null); }} variant="fullWidth">
                        <Tab value="tenant" label="Tenant administrator" id="sign-in-tenant" />
                        <Tab value="platform" label="Platform" id="sign-in-platform" />
                    </Tabs>
                    <form onSubmit={submit} aria-label="Sign in" key={who}>
                        {who === 'tenant' ? <TenantAdminFields /> : <PlatformAdminFields />}
                        {error && (
                            <Alert severity="error" role="alert" sx={{ mt: 1 }}>
                                {error}
                            </Alert>
                        )}
                        <Button type="submit" variant="contained" fullWidth disabled={busy} sx={{ mt: 2 }}>
                            Sign in
                        </Button>
                    </form>
                </CardContent>
            </Card>
        </Box>
    );
}
