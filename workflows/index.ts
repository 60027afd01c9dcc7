/** The workflow bundle's entry: every workflow type the worker serves. */
export { nasSearch, progressQuery } from './search';
