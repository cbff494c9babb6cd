import type { ReactNode } from 'react';

/** A full-width warning strip. */
export function Banner({ children, testId }: { children: ReactNode; testId?: string }) {
  return <div className="banner" role="alert" data-testid={testId}>{children}</div>;
}
