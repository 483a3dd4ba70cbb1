// The sign-in screen: email and password, for the platform's and the tenants' administrators
// alike (the token says which). A refused sign-in shows the API's message in the form; a
// session that ended by itself (a refused refresh) says so above it.
import { useState } from 'react';
import { useLogin } from 'react-admin';
import { Alert, Box, Button, Card, CardContent, TextField, Typography } from '@mui/material';
import { whySessionEnded } from './session';

export function SignIn() {
    const login = useLogin();
    const [error, setError] = useState(null);
    const [busy, setBusy] = useState(false);
    const ended = whySessionEnded();

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
                    <Typography variant="body2" color="text.secondary">
                        Platform administrators and tenant administrators sign in here.
                    </Typography>
                    {ended && !error && (
                        <Alert severity="info" role="status" className="session-ended" sx={{ mt: 2 }}>
                            {ended}
                        </Alert>
                    )}
                    <form onSubmit={submit} aria-label="Sign in">
                        <TextField name="email" label="Email" type="email" autoComplete="username" required fullWidth margin="normal" autoFocus />
                        <TextField name="password" label="Password" type="password" autoComplete="current-password" required fullWidth margin="normal" />
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
