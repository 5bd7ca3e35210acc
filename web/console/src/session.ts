/** Who is logged in, and which surfaces their roles open. */
import { reactive } from 'vue';

export type Role = 'agent' | 'hotline' | 'handler' | 'editor' | 'supervisor' | 'admin';

export const ROLE_NAMES: Record<Role, string> = {
  agent: '网办客服',
  hotline: '热线坐席',
  handler: '办理人员',
  editor: '知识编辑',
  supervisor: '督办人员',
  admin: '系统管理员',
};

export interface Me {
  username: string;
  roles: Role[];
  csrfToken?: string;
}

export const session = reactive<{ me: Me | null }>({ me: null });

export const hasRole = (...roles: Role[]): boolean => roles.some((r) => session.me?.roles.includes(r));

