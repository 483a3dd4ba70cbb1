// auth-js (`@supabase/auth-js`, unmodified, from npm): one client taking steps in order, the
// way a frontend does. Input: { url, headers?, steps: [{ op, ... }] }. Output: per step
// { data, error } (error: { name, message, status, code }), and each session as the client holds it.
// Ops: signUp, signInWithPassword, refreshSession, getUser, updateUser, signOut, getSession, getClaims,
// resetPasswordForEmail, verifyOtp, invite (as the signed-in user), tenant (X-Tenant-ID from now on).
import { readFileSync } from 'node:fs';
import { AuthClient, AuthAdminApi } from '@supabase/auth-js';

const { url, headers = {}, steps } = JSON.parse(readFileSync(0, 'utf8'));
const auth = new AuthClient({ url, headers: { ...headers }, persistSession: false, autoRefreshToken: false });

const error = (e) => e && { name: e.name, message: e.message, status: e.status ?? null, code: e.code ?? null };

async function take(step) {
  switch (step.op) {
    case 'signUp': return auth.signUp({ email: step.email, password: step.password, options: { data: step.data ?? {} } });
    case 'signInWithPassword': return auth.signInWithPassword({ email: step.email, password: step.password });
    case 'refreshSession': return auth.refreshSession(step.refresh_token ? { refresh_token: step.refresh_token } : undefined);
    case 'getUser': return auth.getUser(step.jwt);
    case 'updateUser': return auth.updateUser(step.attributes);
    case 'signOut': return auth.signOut({ scope: step.scope ?? 'global' });
    case 'getSession': return auth.getSession();
    case 'getClaims': return auth.getClaims();
    case 'resetPasswordForEmail': return auth.resetPasswordForEmail(step.email);
    case 'verifyOtp': return auth.verifyOtp({ email: step.email, token: step.token, type: step.type });
    case 'invite': {
      const { data } = await auth.getSession();
      const admin = new AuthAdminApi({ url, headers: { ...headers, Authorization: `Bearer ${data.session?.access_token}` } });
      return admin.inviteUserByEmail(step.email, { data: step.data });
    }
    case 'tenant': auth.headers['X-Tenant-ID'] = step.tenant_id; return { data: null, error: null };
    default: throw new Error(`unknown op ${step.op}`);
  }
}

const out = [];
for (const step of steps) {
  const { data, error: e } = await take(step);
  out.push({ op: step.op, data: data ?? null, error: error(e) });
}
console.log(JSON.stringify(out));
