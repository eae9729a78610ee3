// Public face of libs/tenancy: agents, workspaces, admin users, roles and the tenancy rule.
export * from './entities/agent.entity';
export * from './entities/admin-user.entity';
export * from './entities/workspace.entity';
export * from './admin-principal';
export * from './ids';
export * from './pagination';
export * from './passwords';
export * from './roles.guard';
export * from './tenancy.service';
export * from './tenancy.module';
