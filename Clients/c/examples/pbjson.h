/*
 * pbjson: protobuf's canonical JSON mapping for any protobuf-c message, driven by the
 * generated descriptors (json-c does the JSON). Part of the example program, not of the
 * library.
 *
 * Parsing follows the mapping: lowerCamelCase field names (the .proto names are accepted too),
 * enums by name (or number), 64-bit integers as strings (or numbers), bytes as base64, null
 * for a field's default; an unknown field is an error. Rendering leaves out fields at their
 * default, as protobuf's JSON printers do.
 */
#ifndef DEMANDSCREEN_PBJSON_H
#define DEMANDSCREEN_PBJSON_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

/**
 * Parses `length` bytes of JSON text as a message of type `descriptor`. Returns the message
 * (free with protobuf_c_message_free_unpacked(message, NULL)), or NULL with the reason in
 * `error` (e.g. `utterances[1].speaker: "SPEAKER_BOSS" is not one of the field's values`,
 * `not JSON: unexpected character at offset 19`).
 */
ProtobufCMessage *pbjson_parse(const ProtobufCMessageDescriptor *descriptor, const char *text, size_t length,
                               char *error, size_t error_size);

/** Renders `message` as one line of JSON. Returns a string to free with free(), or NULL when
 *  out of memory. */
char *pbjson_render(const ProtobufCMessage *message);

#endif
