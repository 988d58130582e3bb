/** The manifest of an export (pure): every entry's name, size and sha256, and what was asked. */
export interface ManifestEntry {
  name: string;
  size: number;
  sha256: string;
  /** For log streams: the number of lines. */
  lines?: number;
}

export interface ManifestContainer {
  id: string;
  name: string;
  tty: boolean;
  /** Run records of sdocker found for it. */
  records: number;
  events: number;
}

export interface Manifest {
  format: 'sdocker-logs-export/1';
  createdAt: string;
  since?: string;
  until: string;
  /** Where the run records were read (or why not). */
  records: string;
  containers: ManifestContainer[];
  entries: ManifestEntry[];
}

/** Entry names: one folder per container, by its name as the engine reports it, and a short id (unique). */
export function folderOf(id: string, name: string): string {
  const clean = name.replace(/^\//, '').replace(/[^A-Za-z0-9_.-]/g, '_') || 'container';
  return `${clean}-${id.slice(0, 12)}`;
}
