/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json-writer.h: writes JSON (RFC 8259) for dermarollctl's --json output.
 *
 * dermarollctl only ever writes JSON, never reads it, so a small writer on
 * a GString does the job without adding json-glib to the dependencies.
 * Commas and indentation are placed by the writer; strings are escaped
 * and made valid UTF-8; doubles are written in the C locale with the
 * fewest digits that read back to the same value, non-finite ones as null.
 */
#pragma once

#include <glib.h>
#include <stdio.h>

G_BEGIN_DECLS

typedef struct _DrJson DrJson;

/* @pretty: two-space indentation and a newline at the end; otherwise one
 * line (for JSON Lines output, one value per line). */
DrJson *dr_json_new (gboolean pretty);
void dr_json_free (DrJson *json);
/* The text so far; the writer is freed. */
char *dr_json_free_to_string (DrJson *json);
/* Writes the text so far to @stream and forgets it, the writer's place
 * kept: a document of any length in constant memory. The end of the
 * document is still dr_json_free_to_string ()'s (its newline). FALSE when
 * @stream failed (errno says why). */
gboolean dr_json_flush (DrJson *json, FILE *stream);
/* How many bytes are waiting for dr_json_flush (). */
gsize dr_json_pending (DrJson *json);

void dr_json_begin_object (DrJson *json);
void dr_json_end_object (DrJson *json);
void dr_json_begin_array (DrJson *json);
void dr_json_end_array (DrJson *json);
/* The member name for the next value, inside an object. */
void dr_json_key (DrJson *json, const char *key);

void dr_json_string (DrJson *json, const char *value);
void dr_json_int (DrJson *json, gint64 value);
void dr_json_uint (DrJson *json, guint64 value);
void dr_json_double (DrJson *json, double value);
void dr_json_bool (DrJson *json, gboolean value);
void dr_json_null (DrJson *json);
/* A number the caller wrote as JSON text already (for a hot path that
 * knows its values' shortest form). */
void dr_json_number_text (DrJson *json, const char *text);
/* Basic types as above, arrays as arrays, a{s*} as objects, tuples as
 * arrays, variants by their content, maybe as the value or null. Anything
 * else is written as its GVariant text. */
void dr_json_variant (DrJson *json, GVariant *value);

/* Shorthands for "key": value. */
void dr_json_member_string (DrJson *json, const char *key, const char *value);
void dr_json_member_int (DrJson *json, const char *key, gint64 value);
void dr_json_member_uint (DrJson *json, const char *key, guint64 value);
void dr_json_member_double (DrJson *json, const char *key, double value);
void dr_json_member_bool (DrJson *json, const char *key, gboolean value);

/* @text as a JSON string literal, quotes included, appended to @out. */
void dr_json_append_escaped (GString *out, const char *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DrJson, dr_json_free)

G_END_DECLS
