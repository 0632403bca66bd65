/** MD4 and the NT hash now live in core (the `%hash.md4()` xlat uses them too); re-exported for pap. */
export { md4, md4Pure, ntHash } from '../../core/index';
