/** The method and path of every route an express 5 app really has, nested routers included. */
import type { Express } from 'express';

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

export function routesOf(app: Express): Array<{ method: string; path: string }> {
  const out: Array<{ method: string; path: string }> = [];
  const walk = (stack: Layer[]) => {
    for (const l of stack) {
      if (l.route) {
        for (const path of ([] as string[]).concat(l.route.path)) {
          for (const [m, on] of Object.entries(l.route.methods)) if (on && m !== '_all') out.push({ method: m.toUpperCase(), path });
        }
      } else if (l.handle?.stack) walk(l.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return out;
}

/** An express path in OpenAPI's form: /a/:id → /a/{id}. */
export const openapiPath = (p: string) => p.replace(/:(\w+)/g, '{$1}');
