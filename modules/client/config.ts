/**
 * Config schema of the `client` module (FreeRADIUS v4 rlm_client): it has no settings of its own;
 * it reads the clients the server already has (`client NAME { … }` sections, clients from modules).
 */
import { conf } from '../../core';

export const ClientConfig = conf.section({});

/** Parsed `client` config. */
export type ClientConfig = conf.Infer<typeof ClientConfig>;
