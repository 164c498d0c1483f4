/*
 * pbjson: protobuf JSON <-> protobuf-c messages through the descriptors. See pbjson.h.
 *
 * Parsing writes the protobuf wire encoding straight from the JSON tree, field by field, and
 * lets protobuf-c unpack it: no hand-built structures, so every allocation of the result is
 * protobuf-c's own and protobuf_c_message_free_unpacked() frees it.
 */
#define _POSIX_C_SOURCE 200809L

#include "pbjson.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#define MAX_DEPTH 64

/* ------------------------------------------------------------------------------------------ */
/* Output bytes                                                                                */

typedef struct wire {
    uint8_t *data;
    size_t length;
    size_t capacity;
    bool failed; /* out of memory */
} wire;

static bool wire_reserve(wire *w, size_t extra) {
    if (w->failed) return false;
    if (w->length + extra <= w->capacity) return true;
    size_t capacity = w->capacity ? w->capacity : 256;
    while (capacity < w->length + extra) capacity *= 2;
    uint8_t *data = realloc(w->data, capacity);
    if (!data) {
        w->failed = true;
        return false;
    }
    w->data = data;
    w->capacity = capacity;
    return true;
}

static void wire_bytes(wire *w, const void *bytes, size_t n) {
    if (n == 0 || !wire_reserve(w, n)) return;
    memcpy(w->data + w->length, bytes, n);
    w->length += n;
}

static void wire_varint(wire *w, uint64_t v) {
    uint8_t bytes[10];
    size_t n = 0;
    do {
        bytes[n] = (uint8_t)(v & 0x7F);
        v >>= 7;
        if (v) bytes[n] |= 0x80;
        n++;
    } while (v);
    wire_bytes(w, bytes, n);
}

static void wire_tag(wire *w, uint32_t id, unsigned type) { wire_varint(w, (uint64_t)id << 3 | type); }

static void wire_fixed32(wire *w, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    wire_bytes(w, b, 4);
}

static void wire_fixed64(wire *w, uint64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    wire_bytes(w, b, 8);
}

/* ------------------------------------------------------------------------------------------ */
/* Parsing context                                                                             */

typedef struct parser {
    char path[512];
    char *error;
    size_t error_size;
    bool failed;
} parser;

static const char *path_text(const parser *p) { return p->path[0] ? p->path : "the record"; }

/* The value as JSON for a message, cut past 60 characters as the Swift CLI does. */
static void render_value(json_object *value, char *out, size_t size) {
    const char *text = value ? json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
                             : "null";
    size_t n = strlen(text);
    if (n <= 60) {
        snprintf(out, size, "%s", text);
        return;
    }
    size_t cut = 57;
    while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80) cut--; /* whole UTF-8 characters */
    snprintf(out, size, "%.*s\xE2\x80\xA6", (int)cut, text);
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void fail(parser *p, const char *format, ...) {
    if (p->failed) return;
    p->failed = true;
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(p->error, p->error_size, format, arguments);
    va_end(arguments);
}

static void fail_value(parser *p, json_object *value, const char *why) {
    char shown[128];
    render_value(value, shown, sizeof shown);
    fail(p, "%s: %s %s", path_text(p), shown, why);
}

static size_t path_push_key(parser *p, const char *key) {
    size_t mark = strlen(p->path);
    snprintf(p->path + mark, sizeof p->path - mark, mark ? ".%s" : "%s", key);
    return mark;
}

static size_t path_push_index(parser *p, size_t index) {
    size_t mark = strlen(p->path);
    snprintf(p->path + mark, sizeof p->path - mark, "[%zu]", index);
    return mark;
}

static void path_pop(parser *p, size_t mark) { p->path[mark] = '\0'; }

/* protoc's JSON name: "record_id" -> "recordId". */
static bool json_name_matches(const char *proto_name, const char *key) {
    bool upper = false;
    for (const char *c = proto_name; *c; c++) {
        if (*c == '_') {
            upper = true;
            continue;
        }
        char expected = upper ? (char)toupper((unsigned char)*c) : *c;
        upper = false;
        if (*key++ != expected) return false;
    }
    return *key == '\0';
}

static void json_name_of(const char *proto_name, char *out, size_t size) {
    size_t n = 0;
    bool upper = false;
    for (const char *c = proto_name; *c && n + 1 < size; c++) {
        if (*c == '_') {
            upper = true;
            continue;
        }
        out[n++] = upper ? (char)toupper((unsigned char)*c) : *c;
        upper = false;
    }
    out[n] = '\0';
}

static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessageDescriptor *d, const char *key) {
    for (unsigned i = 0; i < d->n_fields; i++) {
        if (strcmp(d->fields[i].name, key) == 0 || json_name_matches(d->fields[i].name, key)) return &d->fields[i];
    }
    return NULL;
}

/* A map field is a repeated message whose type is the generated "...Entry" with key = 1 and
 * value = 2 (protobuf-c keeps no map flag). */
static bool is_map_field(const ProtobufCFieldDescriptor *f) {
    if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE) return false;
    const ProtobufCMessageDescriptor *entry = f->descriptor;
    size_t n = strlen(entry->short_name);
    return entry->n_fields == 2 && n > 5 && strcmp(entry->short_name + n - 5, "Entry") == 0 &&
           strcmp(entry->fields[0].name, "key") == 0 && entry->fields[0].id == 1 &&
           strcmp(entry->fields[1].name, "value") == 0 && entry->fields[1].id == 2;
}

/* ------------------------------------------------------------------------------------------ */
/* JSON values to numbers                                                                      */

/* A JSON string holding an integer, with nothing else. */
static bool parse_integer_text(const char *text, bool is_signed, int64_t *s, uint64_t *u) {
    if (!*text || isspace((unsigned char)*text)) return false;
    char *end = NULL;
    errno = 0;
    if (is_signed) {
        long long v = strtoll(text, &end, 10);
        if (errno || *end) return false;
        *s = v;
    } else {
        if (*text == '-') return false;
        unsigned long long v = strtoull(text, &end, 10);
        if (errno || *end) return false;
        *u = v;
    }
    return true;
}

/* Reads an integer value of any width: a JSON integer, an integral JSON number, or a string. */
static bool json_integer(parser *p, json_object *value, bool is_signed, int64_t minimum, uint64_t maximum,
                         int64_t *s_out, uint64_t *u_out) {
    int64_t s = 0;
    uint64_t u = 0;
    bool ok = false;
    enum json_type type = json_object_get_type(value);
    if (type == json_type_int || type == json_type_string) {
        /* json-c keeps integers as int64 or uint64: its own text of them is exact. */
        const char *text = type == json_type_string ? json_object_get_string(value)
                                                    : json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN);
        ok = parse_integer_text(text, is_signed, &s, &u);
    } else if (type == json_type_double) {
        double d = json_object_get_double(value);
        if (isfinite(d) && d == floor(d)) {
            if (is_signed && d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
                s = (int64_t)d;
                ok = true;
            } else if (!is_signed && d >= 0 && d < 18446744073709551616.0) {
                u = (uint64_t)d;
                ok = true;
            }
        }
    } else {
        fail_value(p, value, "is not valid here (expected an integer)");
        return false;
    }
    if (!ok) {
        fail_value(p, value, "is not valid here (expected an integer)");
        return false;
    }
    if (is_signed ? (s < minimum || (s > 0 && (uint64_t)s > maximum)) : (u > maximum)) {
        fail_value(p, value, "is out of range for the field");
        return false;
    }
    *s_out = s;
    *u_out = u;
    return true;
}

static bool json_floating(parser *p, json_object *value, double *out) {
    enum json_type type = json_object_get_type(value);
    if (type == json_type_double || type == json_type_int) {
        *out = json_object_get_double(value);
        return true;
    }
    if (type == json_type_string) {
        const char *text = json_object_get_string(value);
        if (strcmp(text, "NaN") == 0) *out = NAN;
        else if (strcmp(text, "Infinity") == 0) *out = INFINITY;
        else if (strcmp(text, "-Infinity") == 0) *out = -INFINITY;
        else {
            char *end = NULL;
            errno = 0;
            *out = strtod(text, &end);
            if (!*text || isspace((unsigned char)*text) || *end || errno) {
                fail_value(p, value, "is not valid here (expected a number)");
                return false;
            }
        }
        return true;
    }
    fail_value(p, value, "is not valid here (expected a number)");
    return false;
}

static int base64_value(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* Standard or URL-safe base64, padding optional. */
static bool base64_decode(const char *text, wire *out) {
    uint32_t accumulator = 0;
    int bits = 0;
    size_t i = 0;
    for (; text[i] && text[i] != '='; i++) {
        int v = base64_value((unsigned char)text[i]);
        if (v < 0) return false;
        accumulator = accumulator << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            uint8_t byte = (uint8_t)(accumulator >> bits);
            wire_bytes(out, &byte, 1);
        }
    }
    for (; text[i]; i++)
        if (text[i] != '=') return false;
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* JSON to wire                                                                                */

static void encode_message(parser *p, const ProtobufCMessageDescriptor *d, json_object *object, wire *w, int depth);

/* Encodes one value of field `f` (one element when repeated) with its tag. */
static void encode_value(parser *p, const ProtobufCFieldDescriptor *f, json_object *value, wire *w, int depth) {
    int64_t s = 0;
    uint64_t u = 0;
    double d = 0;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        if (!json_integer(p, value, true, INT32_MIN, INT32_MAX, &s, &u)) return;
        if (f->type == PROTOBUF_C_TYPE_INT32) {
            wire_tag(w, f->id, 0);
            wire_varint(w, (uint64_t)s); /* negative: sign-extended to 10 bytes */
        } else if (f->type == PROTOBUF_C_TYPE_SINT32) {
            wire_tag(w, f->id, 0);
            wire_varint(w, (uint32_t)(((uint32_t)s << 1) ^ (uint32_t)(s < 0 ? -1 : 0)));
        } else {
            wire_tag(w, f->id, 5);
            wire_fixed32(w, (uint32_t)(int32_t)s);
        }
        return;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if (!json_integer(p, value, true, INT64_MIN, INT64_MAX, &s, &u)) return;
        if (f->type == PROTOBUF_C_TYPE_INT64) {
            wire_tag(w, f->id, 0);
            wire_varint(w, (uint64_t)s);
        } else if (f->type == PROTOBUF_C_TYPE_SINT64) {
            wire_tag(w, f->id, 0);
            wire_varint(w, ((uint64_t)s << 1) ^ (uint64_t)(s < 0 ? -1 : 0));
        } else {
            wire_tag(w, f->id, 1);
            wire_fixed64(w, (uint64_t)s);
        }
        return;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if (!json_integer(p, value, false, 0, UINT32_MAX, &s, &u)) return;
        if (f->type == PROTOBUF_C_TYPE_UINT32) {
            wire_tag(w, f->id, 0);
            wire_varint(w, u);
        } else {
            wire_tag(w, f->id, 5);
            wire_fixed32(w, (uint32_t)u);
        }
        return;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (!json_integer(p, value, false, 0, UINT64_MAX, &s, &u)) return;
        if (f->type == PROTOBUF_C_TYPE_UINT64) {
            wire_tag(w, f->id, 0);
            wire_varint(w, u);
        } else {
            wire_tag(w, f->id, 1);
            wire_fixed64(w, u);
        }
        return;
    case PROTOBUF_C_TYPE_FLOAT: {
        if (!json_floating(p, value, &d)) return;
        if (isfinite(d) && (d > 3.4028234663852886e38 || d < -3.4028234663852886e38)) {
            fail_value(p, value, "is out of range for the field");
            return;
        }
        float f32 = (float)d;
        uint32_t bits;
        memcpy(&bits, &f32, 4);
        wire_tag(w, f->id, 5);
        wire_fixed32(w, bits);
        return;
    }
    case PROTOBUF_C_TYPE_DOUBLE: {
        if (!json_floating(p, value, &d)) return;
        uint64_t bits;
        memcpy(&bits, &d, 8);
        wire_tag(w, f->id, 1);
        wire_fixed64(w, bits);
        return;
    }
    case PROTOBUF_C_TYPE_BOOL:
        if (json_object_get_type(value) != json_type_boolean) {
            fail_value(p, value, "is not valid here (expected true or false)");
            return;
        }
        wire_tag(w, f->id, 0);
        wire_varint(w, json_object_get_boolean(value) ? 1 : 0);
        return;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *e = f->descriptor;
        if (json_object_get_type(value) == json_type_string) {
            const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value_by_name(e, json_object_get_string(value));
            if (!v) {
                fail_value(p, value, "is not one of the field's values");
                return;
            }
            s = v->value;
        } else if (json_object_get_type(value) == json_type_int) {
            if (!json_integer(p, value, true, INT32_MIN, INT32_MAX, &s, &u)) return;
        } else {
            fail_value(p, value, "is not one of the field's values");
            return;
        }
        wire_tag(w, f->id, 0);
        wire_varint(w, (uint64_t)s);
        return;
    }
    case PROTOBUF_C_TYPE_STRING:
        if (json_object_get_type(value) != json_type_string) {
            fail_value(p, value, "is not valid here (expected a string)");
            return;
        }
        wire_tag(w, f->id, 2);
        wire_varint(w, (uint64_t)json_object_get_string_len(value));
        wire_bytes(w, json_object_get_string(value), (size_t)json_object_get_string_len(value));
        return;
    case PROTOBUF_C_TYPE_BYTES: {
        if (json_object_get_type(value) != json_type_string) {
            fail_value(p, value, "is not valid here (expected base64 text)");
            return;
        }
        wire decoded = {0};
        if (!base64_decode(json_object_get_string(value), &decoded)) {
            free(decoded.data);
            fail_value(p, value, "is not valid here (expected base64 text)");
            return;
        }
        wire_tag(w, f->id, 2);
        wire_varint(w, decoded.length);
        wire_bytes(w, decoded.data, decoded.length);
        if (decoded.failed) w->failed = true;
        free(decoded.data);
        return;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        if (json_object_get_type(value) != json_type_object) {
            fail_value(p, value, "is not valid here (expected an object)");
            return;
        }
        wire inner = {0};
        encode_message(p, f->descriptor, value, &inner, depth + 1);
        wire_tag(w, f->id, 2);
        wire_varint(w, inner.length);
        wire_bytes(w, inner.data, inner.length);
        if (inner.failed) w->failed = true;
        free(inner.data);
        return;
    }
    }
    fail(p, "%s: fields of this type are not supported", path_text(p));
}

/* A map field: a JSON object whose keys become the entries' keys. */
static void encode_map(parser *p, const ProtobufCFieldDescriptor *f, json_object *object, wire *w, int depth) {
    const ProtobufCMessageDescriptor *entry = f->descriptor;
    json_object_object_foreach(object, key, value) {
        if (p->failed) return;
        size_t mark = path_push_key(p, key);
        wire inner = {0};
        json_object *key_value = json_object_new_string(key);
        if (!key_value) {
            w->failed = true;
        } else {
            encode_value(p, &entry->fields[0], key_value, &inner, depth + 1);
            json_object_put(key_value);
        }
        if (value && !p->failed) encode_value(p, &entry->fields[1], value, &inner, depth + 1);
        wire_tag(w, f->id, 2);
        wire_varint(w, inner.length);
        wire_bytes(w, inner.data, inner.length);
        if (inner.failed) w->failed = true;
        free(inner.data);
        path_pop(p, mark);
    }
}

static void encode_message(parser *p, const ProtobufCMessageDescriptor *d, json_object *object, wire *w, int depth) {
    if (depth > MAX_DEPTH) {
        fail(p, "%s: nested too deeply", path_text(p));
        return;
    }
    json_object_object_foreach(object, key, value) {
        if (p->failed) return;
        const ProtobufCFieldDescriptor *f = find_field(d, key);
        if (!f) {
            fail(p, "%s: there is no field '%s'", path_text(p), key);
            return;
        }
        if (value == NULL) continue; /* null: the field's default */
        size_t mark = path_push_key(p, key);
        if (is_map_field(f)) {
            if (json_object_get_type(value) != json_type_object) fail_value(p, value, "is not valid here (expected an object)");
            else encode_map(p, f, value, w, depth);
        } else if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            if (json_object_get_type(value) != json_type_array) {
                fail_value(p, value, "is not valid here (expected an array)");
            } else {
                size_t n = json_object_array_length(value);
                for (size_t i = 0; i < n && !p->failed; i++) {
                    json_object *element = json_object_array_get_idx(value, i);
                    size_t element_mark = path_push_index(p, i);
                    if (element == NULL) fail(p, "%s: null is not valid in a list", path_text(p));
                    else encode_value(p, f, element, w, depth);
                    path_pop(p, element_mark);
                }
            }
        } else {
            encode_value(p, f, value, w, depth);
        }
        path_pop(p, mark);
    }
}

ProtobufCMessage *pbjson_parse(const ProtobufCMessageDescriptor *descriptor, const char *text, size_t length,
                               char *error, size_t error_size) {
    parser p;
    memset(&p, 0, sizeof p);
    p.error = error;
    p.error_size = error_size;
    if (error_size) error[0] = '\0';
    if (length > INT32_MAX) {
        fail(&p, "not JSON: the text is too long");
        return NULL;
    }
    json_tokener *tokener = json_tokener_new_ex(MAX_DEPTH);
    if (!tokener) {
        fail(&p, "out of memory");
        return NULL;
    }
    json_tokener_set_flags(tokener, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *root = json_tokener_parse_ex(tokener, text, (int)length);
    enum json_tokener_error status = json_tokener_get_error(tokener);
    size_t end = json_tokener_get_parse_end(tokener);
    json_tokener_free(tokener);
    if (status == json_tokener_continue) {
        json_object_put(root);
        fail(&p, "not JSON: the text ends in the middle of a value");
        return NULL;
    }
    if (status != json_tokener_success) {
        fail(&p, "not JSON: %s at offset %zu", json_tokener_error_desc(status), end);
        return NULL;
    }
    while (end < length && isspace((unsigned char)text[end])) end++;
    if (end < length) {
        json_object_put(root);
        fail(&p, "not JSON: unexpected text after the value at offset %zu", end);
        return NULL;
    }
    if (json_object_get_type(root) != json_type_object) {
        json_object_put(root);
        fail(&p, "not a %s: a record is a JSON object ({\"recordId\": ...})", descriptor->short_name);
        return NULL;
    }
    wire w = {0};
    encode_message(&p, descriptor, root, &w, 0);
    json_object_put(root);
    if (!p.failed && w.failed) fail(&p, "out of memory");
    if (p.failed) {
        free(w.data);
        return NULL;
    }
    ProtobufCMessage *message = protobuf_c_message_unpack(descriptor, NULL, w.length, w.data);
    free(w.data);
    if (!message) fail(&p, "the record does not encode as a %s", descriptor->name);
    return message;
}

/* ------------------------------------------------------------------------------------------ */
/* Message to JSON                                                                             */

static json_object *render_message(const ProtobufCMessage *message);

static char *base64_encode(const uint8_t *data, size_t n) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((n + 2) / 3 * 4 + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (i + 1 < n ? (uint32_t)data[i + 1] << 8 : 0) | (i + 2 < n ? data[i + 2] : 0);
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = i + 1 < n ? alphabet[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? alphabet[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

/* The shortest text that reads back as the same double; "1.0" rather than "1", as swift-protobuf. */
static json_object *render_double(double d, bool is_float) {
    if (isnan(d)) return json_object_new_string("NaN");
    if (isinf(d)) return json_object_new_string(d > 0 ? "Infinity" : "-Infinity");
    char text[40];
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(text, sizeof text, "%.*g", precision, d);
        if (is_float ? (float)strtod(text, NULL) == (float)d : strtod(text, NULL) == d) break;
    }
    if (!strpbrk(text, ".eE")) strncat(text, ".0", sizeof text - strlen(text) - 1);
    return json_object_new_double_s(d, text);
}

static json_object *render_scalar(const ProtobufCFieldDescriptor *f, const void *at) {
    char text[32];
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        return json_object_new_int64(*(const int32_t *)at);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return json_object_new_int64(*(const uint32_t *)at);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        snprintf(text, sizeof text, "%" PRId64, *(const int64_t *)at);
        return json_object_new_string(text);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        snprintf(text, sizeof text, "%" PRIu64, *(const uint64_t *)at);
        return json_object_new_string(text);
    case PROTOBUF_C_TYPE_FLOAT:
        return render_double(*(const float *)at, true);
    case PROTOBUF_C_TYPE_DOUBLE:
        return render_double(*(const double *)at, false);
    case PROTOBUF_C_TYPE_BOOL:
        return json_object_new_boolean(*(const protobuf_c_boolean *)at);
    case PROTOBUF_C_TYPE_ENUM: {
        int value = *(const int *)at;
        const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(f->descriptor, value);
        return v ? json_object_new_string(v->name) : json_object_new_int(value);
    }
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)at;
        return json_object_new_string(s ? s : "");
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = at;
        char *encoded = base64_encode(b->data, b->len);
        if (!encoded) return NULL;
        json_object *o = json_object_new_string(encoded);
        free(encoded);
        return o;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *m = *(ProtobufCMessage *const *)at;
        return m ? render_message(m) : json_object_new_object();
    }
    }
    return NULL;
}

static size_t element_size(const ProtobufCFieldDescriptor *f) {
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_ENUM:
        return sizeof(int);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    }
    return 0;
}

/* Whether a singular field without presence holds its default (and so is left out). */
static bool is_default(const ProtobufCFieldDescriptor *f, const void *at) {
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        return *(const uint32_t *)at == 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return *(const uint64_t *)at == 0;
    case PROTOBUF_C_TYPE_FLOAT: {
        float v = *(const float *)at;
        return v == 0 && !signbit(v);
    }
    case PROTOBUF_C_TYPE_DOUBLE: {
        double v = *(const double *)at;
        return v == 0 && !signbit(v);
    }
    case PROTOBUF_C_TYPE_BOOL:
        return *(const protobuf_c_boolean *)at == 0;
    case PROTOBUF_C_TYPE_ENUM:
        return *(const int *)at == 0;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)at;
        return s == NULL || s[0] == '\0';
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)at)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(ProtobufCMessage *const *)at == NULL;
    }
    return true;
}

static bool is_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
    const char *base = (const char *)m;
    const void *at = base + f->offset;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
    switch (f->label) {
    case PROTOBUF_C_LABEL_REQUIRED:
        return true;
    case PROTOBUF_C_LABEL_OPTIONAL:
        if (f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING) return *(void *const *)at != NULL;
        return *(const protobuf_c_boolean *)(base + f->quantifier_offset) != 0;
    case PROTOBUF_C_LABEL_NONE:
        return !is_default(f, at);
    case PROTOBUF_C_LABEL_REPEATED:
        return *(const size_t *)(base + f->quantifier_offset) > 0;
    }
    return false;
}

static json_object *render_message(const ProtobufCMessage *message) {
    const ProtobufCMessageDescriptor *d = message->descriptor;
    json_object *object = json_object_new_object();
    if (!object) return NULL;
    const char *base = (const char *)message;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!is_present(message, f)) continue;
        char name[128];
        json_name_of(f->name, name, sizeof name);
        json_object *value = NULL;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            const char *items = *(const char *const *)(base + f->offset);
            size_t size = element_size(f);
            if (is_map_field(f)) {
                value = json_object_new_object();
                const ProtobufCMessageDescriptor *entry = f->descriptor;
                for (size_t k = 0; value && k < n; k++) {
                    const ProtobufCMessage *e = ((ProtobufCMessage *const *)(const void *)items)[k];
                    json_object *key = render_scalar(&entry->fields[0], (const char *)e + entry->fields[0].offset);
                    json_object *v = render_scalar(&entry->fields[1], (const char *)e + entry->fields[1].offset);
                    if (key && v) json_object_object_add(value, json_object_get_string(key), v);
                    else json_object_put(v);
                    json_object_put(key);
                }
            } else {
                value = json_object_new_array();
                for (size_t k = 0; value && k < n; k++) {
                    json_object *element = render_scalar(f, items + k * size);
                    if (element) json_object_array_add(value, element);
                }
            }
        } else {
            value = render_scalar(f, base + f->offset);
        }
        if (value) json_object_object_add(object, name, value);
    }
    return object;
}

char *pbjson_render(const ProtobufCMessage *message) {
    json_object *object = render_message(message);
    if (!object) return NULL;
    const char *text = json_object_to_json_string_ext(object, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    char *copy = text ? strdup(text) : NULL;
    json_object_put(object);
    return copy;
}
