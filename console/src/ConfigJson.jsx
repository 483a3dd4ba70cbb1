// Configuration as JSON: one level shown read-only, and an editor that saves an object through
// `save` and shows a refusal (not JSON, or the API's message) under the field.
import { useState } from 'react';
import { Button } from 'react-admin';
import { Alert, Stack, TextField, Typography } from '@mui/material';

export function ConfigJson({ label, value }) {
    return (
        <div className={`config-${label.split(' ')[0].toLowerCase()}`}>
            <Typography variant="caption" color="text.secondary">{label}</Typography>
            <pre style={{ margin: 0, whiteSpace: 'pre-wrap', wordBreak: 'break-word', fontSize: 12 }}>
                {value ? JSON.stringify(value, null, 1) : '—'}
            </pre>
        </div>
    );
}

export function ConfigEditor({ label, value, save }) {
    const [text, setText] = useState(JSON.stringify(value ?? {}, null, 1));
    const [error, setError] = useState(null);
    const submit = async () => {
        setError(null);
        let config;
        try {
            config = JSON.parse(text);
        } catch (e) {
            setError(`Not JSON: ${e.message}`);
            return;
        }
        try {
            await save(config);
        } catch (e) {
            setError(e.message);
        }
    };
    return (
        <Stack spacing={1}>
            <TextField
                label={label}
                value={text}
                onChange={(e) => setText(e.target.value)}
                multiline
                minRows={3}
                slotProps={{ htmlInput: { 'aria-label': label, className: 'config-input' } }}
            />
            {error && <Alert severity="error" role="alert">{error}</Alert>}
            <Button label="Save configuration" onClick={submit} variant="outlined" />
        </Stack>
    );
}
