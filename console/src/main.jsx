import { createRoot } from 'react-dom/client';
import { App } from './App';
import { keepSessionAlive } from './refresh';

keepSessionAlive();
createRoot(document.getElementById('root')).render(<App />);
