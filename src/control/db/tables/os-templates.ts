// Tables of the OS templates (images a VPS is installed or reinstalled from).
import type { Generated } from 'kysely';
import type { Timestamp } from '../column-types.ts';

export interface OsTemplatesTable {
  id: Generated<string>;
  /** Stable code shown to clients and used in the API (e.g. `debian-12`). */
  code: string;
  name: string;
  /** The image directory every host has under its images dir (e.g. `debian-12`). */
  image: string;
  /** The image build's version (its manifest's build time or inputs key). */
  image_version: string;
  /** sha256 of the image's disk file, from its manifest. */
  sha256: string;
  enabled: Generated<boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface PlanOsTemplatesTable {
  plan_id: string;
  os_template_id: string;
}

export interface OsTemplateTables {
  os_templates: OsTemplatesTable;
  plan_os_templates: PlanOsTemplatesTable;
}
