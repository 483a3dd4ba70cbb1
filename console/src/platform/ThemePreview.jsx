// A tenant's theme (`{"primary": "#d9480f"}`) and a live preview of its header as the form
// changes. The logo URL is not fetched: the console loads nothing from elsewhere.
import { TextInput } from 'react-admin';
import { useWatch } from 'react-hook-form';
import { Box, Typography } from '@mui/material';

export function ThemePreviewBox({ name, theme }) {
    const primary = theme?.primary ?? '#555555';
    return (
        <Box aria-label="Theme preview" sx={{ border: 1, borderColor: 'divider', borderRadius: 1, overflow: 'hidden', maxWidth: 360 }}>
            <Box sx={{ bgcolor: primary, color: '#fff', px: 2, py: 1 }}>
                <Typography variant="subtitle1">{name}</Typography>
            </Box>
            <Box sx={{ px: 2, py: 1 }}>
                <Typography variant="body2" sx={{ color: primary }}>A link in the tenant's colour</Typography>
            </Box>
        </Box>
    );
}

export function ThemeInput() {
    const name = useWatch({ name: 'name' });
    const theme = useWatch({ name: 'theme' });
    return (
        <Box>
            <TextInput source="theme.primary" label="Primary colour" helperText="#rrggbb" />
            <ThemePreviewBox name={name} theme={theme} />
        </Box>
    );
}
