// The block-data part of the test hook (`window.__cockpit.blocks`).

import { hook } from "../testHook";

export interface BlocksHook {
  /** The resource shown, the level and the region it is within. */
  resource: string | null;
  level: string | null;
  within: string | null;
  /** Blocks the last answer held, and region shapes painted with a value. */
  blocks: number;
  painted: number;
  /** The registry panel's last lookup ("ok", "masked" fields) and open review items. */
  lookup: string | null;
  review: number | null;
}

/** The test hook's block-data part. */
export function blocksHook(): BlocksHook {
  const h = hook() as ReturnType<typeof hook> & { blocks?: BlocksHook };
  h.blocks ??= {
    resource: null, level: null, within: null, blocks: 0, painted: 0, lookup: null, review: null,
  };
  return h.blocks;
}
