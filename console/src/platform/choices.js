// The plans and statuses the catalog knows (tenancy.plans, tenancy.tenants.status).
export const PLANS = ['free', 'standard', 'premium', 'enterprise'].map((id) => ({ id, name: id }));
export const STATUSES = ['active', 'suspended'].map((id) => ({ id, name: id }));
