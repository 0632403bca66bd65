/**
 * `pppoe_dpdk` is an app (`app pppoe_dpdk [NAME] { … }`), not a module: it is listed in `MODULE_APPS`
 * (modules/index.ts), which the daemon's composition root (core/cli/radiusd.ts) hands to the server.
 */
export { pppoeDpdkApp, makePppoeDpdkApp, PppoeDpdkApp, PppoeDpdkConfig } from './app';
export { ControlPlane } from './control-plane';
