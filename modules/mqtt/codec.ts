// Transitional: the names src/ still imports from the former single-file codec. Remove once src/ imports
// telltale/text/utf8 and telltale/mqtt/encode directly.
export { utf8Decode, utf8Encode } from "telltale/text/utf8";
export { encodePuback } from "telltale/mqtt/encode";
