// MQTT strings and topics: why a string cannot be sent as an MQTT UTF-8 string (§1.5.3), a topic name or a topic filter (§4.7).
import { utf8Size, LONE_SURROGATE, NULL_CHARACTER } from "telltale/text/utf8";

// Each check takes the string's utf8Size(text, true) when the caller has it already: an encoder needs the size anyway,
// and in XS each charCodeAt() costs about as much as a thousand integer operations, so one pass less is a third of a
// PUBLISH's encoding cost.

/** Why `text` cannot be sent as an MQTT string (§1.5.3), or undefined when it can. */
export function stringProblem(text: string, size = utf8Size(text, true)): string | undefined {
  if (size === LONE_SURROGATE) return "has a lone surrogate, which UTF-8 cannot encode";
  if (size === NULL_CHARACTER) return "contains U+0000 (§1.5.3)";
  if (size > 65535) return "is longer than 65535 bytes in UTF-8 (§1.5.3)";
  return undefined;
}

/** Why `topic` cannot be a PUBLISH topic name (§4.7.1, §4.7.3), or undefined when it can. */
export function topicNameProblem(topic: string, size?: number): string | undefined {
  if (typeof topic !== "string") return "is not a string";
  if (topic.length === 0) return "is empty (§4.7.3)";
  if (topic.indexOf("+") >= 0 || topic.indexOf("#") >= 0) return "contains a wildcard (§3.3.2.1)";
  return stringProblem(topic, size);
}

/** Why `filter` cannot be a SUBSCRIBE topic filter (§4.7.1), or undefined when it can. */
export function topicFilterProblem(filter: string, size?: number): string | undefined {
  if (typeof filter !== "string") return "is not a string";
  if (filter.length === 0) return "is empty (§4.7.3)";
  for (let i = 0, length = filter.length; i < length; i++) {
    const c = filter.charCodeAt(i);
    // A wildcard occupies a whole level; '#' is also the last level (§4.7.1.2, §4.7.1.3).
    if (c === 0x23 /* # */ && (i !== length - 1 || (i > 0 && filter.charCodeAt(i - 1) !== 0x2f)))
      return "misplaces the multi-level wildcard '#' (§4.7.1.2)";
    if (
      c === 0x2b /* + */ &&
      ((i > 0 && filter.charCodeAt(i - 1) !== 0x2f) || (i + 1 < length && filter.charCodeAt(i + 1) !== 0x2f))
    )
      return "misplaces the single-level wildcard '+' (§4.7.1.3)";
  }
  return stringProblem(filter, size);
}
