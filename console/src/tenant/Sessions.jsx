// Members signed in to the tenant (/auth/v1/tenant/sessions), ending one, and inviting someone
// by email with a tenant role (/auth/v1/invite: the code is mailed, never shown here).
import { useState } from 'react';
import { Title, useNotify } from 'react-admin';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import {
    Alert, Box, Button, Card, CardContent, Stack, Table, TableBody, TableCell, TableHead, TableRow, TextField,
    Typography,
} from '@mui/material';
import { call } from '../api';

function Invite() {
    const notify = useNotify();
    const [error, setError] = useState(null);
    const submit = async (event) => {
        event.preventDefault();
        const form = event.currentTarget;
        const { email, role } = Object.fromEntries(new FormData(form));
        setError(null);
        try {
            await call('/auth/v1/invite', { method: 'POST', body: { email, data: { tenant_role: role } } });
            notify(`Invitation sent to ${email}`, { type: 'success' });
            form.reset();
        } catch (e) {
            setError(e.message);
        }
    };
    return (
        <Box component="form" onSubmit={submit} aria-label="Invite">
            <Typography variant="h6" component="h2">Invite</Typography>
            <Stack direction={{ xs: 'column', sm: 'row' }} spacing={1} sx={{ alignItems: { sm: 'center' } }}>
                <TextField name="email" label="Email" type="email" required />
                <TextField name="role" label="Tenant role" defaultValue="employee" required />
                <Button type="submit" variant="contained">Send invitation</Button>
            </Stack>
            {error && <Alert severity="error" role="alert" sx={{ mt: 1 }}>{error}</Alert>}
        </Box>
    );
}

export function Sessions() {
    const notify = useNotify();
    const queryClient = useQueryClient();
    const sessions = useQuery({ queryKey: ['tenant_sessions'], queryFn: async () => (await call('/auth/v1/tenant/sessions')).json });
    const end = async (id) => {
        try {
            await call(`/auth/v1/sessions/${id}`, { method: 'DELETE' });
            notify('Session ended', { type: 'success' });
        } catch (e) {
            notify(e.message, { type: 'error' });
        }
        queryClient.invalidateQueries({ queryKey: ['tenant_sessions'] });
    };
    return (
        <Card>
            <Title title="Members and sessions" />
            <CardContent>
                <Stack spacing={3}>
                    <Invite />
                    <Box>
                        <Typography variant="h6" component="h2">Signed in</Typography>
                        {sessions.error && <Alert severity="error" role="alert">{sessions.error.message}</Alert>}
                        <Box sx={{ overflowX: 'auto' }}>
                            <Table size="small" aria-label="Sessions">
                                <TableHead>
                                    <TableRow><TableCell>Email</TableCell><TableCell>Since</TableCell><TableCell>Last refresh</TableCell><TableCell /></TableRow>
                                </TableHead>
                                <TableBody>
                                    {(sessions.data ?? []).map((s) => (
                                        <TableRow key={s.id}>
                                            <TableCell>{s.email}</TableCell>
                                            <TableCell>{s.created_at}</TableCell>
                                            <TableCell>{s.refreshed_at}</TableCell>
                                            <TableCell><Button onClick={() => end(s.id)}>End</Button></TableCell>
                                        </TableRow>
                                    ))}
                                </TableBody>
                            </Table>
                        </Box>
                    </Box>
                </Stack>
            </CardContent>
        </Card>
    );
}
