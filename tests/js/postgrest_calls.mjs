// postgrest-js, unmodified: the calls its README teaches, against one tenant's hrms tables.
// Input: { url, token }. Output: each call's { status, data, count, error } by name.
import { readFileSync } from 'node:fs';
import { PostgrestClient } from '@supabase/postgrest-js';

const { url, token } = JSON.parse(readFileSync(0, 'utf8'));
const db = new PostgrestClient(url, { headers: { Authorization: `Bearer ${token}` }, schema: 'hrms' });
const seen = (r) => ({ status: r.status, data: r.data, count: r.count ?? null, error: r.error });
const out = {};

out.select = seen(await db.from('employees').select('first_name,salary').order('salary'));
out.filters = seen(await db.from('employees').select('first_name')
  .gte('salary', 3000).like('job_title', 'eng%').in('first_name', ['First4', 'First6', 'First9'])
  .or('salary.gt.5000,first_name.eq.First4').order('first_name'));
out.embed = seen(await db.from('departments').select('name, employees(first_name)').order('name')
  .order('first_name', { referencedTable: 'employees' }));
out.single = seen(await db.from('employees').select('first_name').eq('first_name', 'First1').single());
out.single_of_many = seen(await db.from('employees').select('first_name').single());
out.maybe_single_none = seen(await db.from('employees').select('first_name').eq('first_name', 'nobody').maybeSingle());
out.count_range = seen(await db.from('employees').select('first_name', { count: 'exact' }).order('salary').range(1, 2));
out.head_count = seen(await db.from('employees').select('*', { count: 'exact', head: true }));
out.insert = seen(await db.from('employees')
  .insert({ first_name: 'New', last_name: 'Hire', email: 'new@x.example', salary: 500 }).select('first_name,salary').single());
out.update = seen(await db.from('employees').update({ salary: 600 }).eq('email', 'new@x.example').select('salary'));
out.upsert = seen(await db.from('employees').upsert({ first_name: 'First1', last_name: 'Last1', email: 'e1@x.example', salary: 1234 },
  { onConflict: 'tenant_id,email' }).select('first_name,salary'));
out.delete = seen(await db.from('employees').delete().eq('email', 'new@x.example').select('first_name'));
out.rpc = seen(await db.rpc('headcount'));
out.rpc_get = seen(await db.rpc('hired_since', { since: '2000-01-01' }, { get: true }).select('first_name').order('first_name').limit(2));
out.csv = seen(await db.from('employees').select('first_name,salary').order('salary').limit(2).csv());
out.error = seen(await db.from('employees').select('no_such_column'));
console.log(JSON.stringify(out));
