export function serveDist(port?: number): Promise<{ url: string; close: () => void }>;
