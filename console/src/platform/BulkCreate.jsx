// Bulk creation: one tenant per line (`slug, name, plan`), created all or none by
// platform.bulk_create_tenants; when some cannot be, each refused line shows its own error.
import { useState } from 'react';
import { Title, useNotify, useRedirect } from 'react-admin';
import { Alert, Box, Button, Card, CardContent, List, ListItem, ListItemText, TextField } from '@mui/material';
import { rpc } from '../api';

function parseLines(text) {
    return text
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean)
        .map((line) => {
            const [slug, name, plan] = line.split(',').map((f) => f.trim());
            return { slug, name: name || slug, ...(plan ? { plan } : {}) };
        });
}

export function BulkCreate() {
    const notify = useNotify();
    const redirect = useRedirect();
    const [text, setText] = useState('');
    const [items, setItems] = useState([]);
    const [errors, setErrors] = useState({});
    const [error, setError] = useState(null);

    const submit = async (event) => {
        event.preventDefault();
        const tenants = parseLines(text);
        setItems(tenants);
        setErrors({});
        setError(null);
        try {
            const created = await rpc('platform', 'bulk_create_tenants', { tenants });
            notify(`${created.length} tenants created`, { type: 'success' });
            redirect('/tenants');
        } catch (e) {
            setError(e.message);
            const report = Array.isArray(e.body?.details) ? e.body.details : [];
            setErrors(Object.fromEntries(report.map((r) => [r.index, `${r.message} (${r.code})`])));
        }
    };

    return (
        <Card>
            <Title title="Bulk create tenants" />
            <CardContent>
                <Box component="form" onSubmit={submit} aria-label="Bulk create tenants">
                    <TextField
                        label="Tenants, one per line: slug, name, plan"
                        value={text}
                        onChange={(e) => setText(e.target.value)}
                        multiline
                        minRows={5}
                        fullWidth
                        slotProps={{ htmlInput: { name: 'tenants' } }}
                    />
                    <Button type="submit" variant="contained" sx={{ mt: 2 }}>Create all</Button>
                </Box>
                {error && <Alert severity="error" role="alert" sx={{ mt: 2 }}>{error}</Alert>}
                {Object.keys(errors).length > 0 && (
                    <List aria-label="Items">
                        {items.map((item, index) => (
                            <ListItem key={index} data-item={index} divider>
                                <ListItemText
                                    primary={`${item.slug}, ${item.name}${item.plan ? `, ${item.plan}` : ''}`}
                                    secondary={errors[index] ?? 'ok (not created: none was)'}
                                    slotProps={{ secondary: { color: errors[index] ? 'error' : 'text.secondary', className: 'item-result' } }}
                                />
                            </ListItem>
                        ))}
                    </List>
                )}
            </CardContent>
        </Card>
    );
}
