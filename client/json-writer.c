/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* json-writer.c: see json-writer.h. */
#include "json-writer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum
{
  LEVEL_OBJECT,
  LEVEL_ARRAY,
} LevelKind;

typedef struct
{
  LevelKind kind;
  gboolean has_members;
} Level;

struct _DrJson
{
  GString *out;
  GArray *stack; /* Level */
  gboolean pretty;
  gboolean after_key;
};

DrJson *
dr_json_new (gboolean pretty)
{
  DrJson *json = g_new0 (DrJson, 1);

  json->out = g_string_new (NULL);
  json->stack = g_array_new (FALSE, FALSE, sizeof (Level));
  json->pretty = pretty;
  return json;
}

void
dr_json_free (DrJson *json)
{
  if (json == NULL)
    return;
  g_string_free (json->out, TRUE);
  g_array_unref (json->stack);
  g_free (json);
}

char *
dr_json_free_to_string (DrJson *json)
{
  char *text;

  g_warn_if_fail (json->stack->len == 0);
  if (json->pretty)
    g_string_append_c (json->out, '\n');
  text = g_string_free (json->out, FALSE);
  g_array_unref (json->stack);
  g_free (json);
  return text;
}

gboolean
dr_json_flush (DrJson *json, FILE *stream)
{
  gboolean ok
      = json->out->len == 0 || fwrite (json->out->str, 1, json->out->len, stream) == json->out->len;

  g_string_truncate (json->out, 0);
  return ok;
}

gsize
dr_json_pending (DrJson *json)
{
  return json->out->len;
}

static void
newline_indent (DrJson *json)
{
  if (!json->pretty)
    return;
  g_string_append_c (json->out, '\n');
  for (guint i = 0; i < json->stack->len; i++)
    g_string_append (json->out, "  ");
}

/* Called before every value and every key: the comma and the line break. */
static void
before_item (DrJson *json)
{
  Level *level;

  if (json->after_key)
    {
      json->after_key = FALSE;
      return;
    }
  if (json->stack->len == 0)
    return;
  level = &g_array_index (json->stack, Level, json->stack->len - 1);
  if (level->has_members)
    g_string_append_c (json->out, ',');
  level->has_members = TRUE;
  newline_indent (json);
}

static void
push (DrJson *json, LevelKind kind, char open)
{
  Level level = { kind, FALSE };

  before_item (json);
  g_string_append_c (json->out, open);
  g_array_append_val (json->stack, level);
}

static void
pop (DrJson *json, LevelKind kind, char close)
{
  Level level;

  g_return_if_fail (json->stack->len > 0);
  level = g_array_index (json->stack, Level, json->stack->len - 1);
  g_return_if_fail (level.kind == kind);
  g_array_set_size (json->stack, json->stack->len - 1);
  if (level.has_members)
    newline_indent (json);
  g_string_append_c (json->out, close);
}

void
dr_json_begin_object (DrJson *json)
{
  push (json, LEVEL_OBJECT, '{');
}

void
dr_json_end_object (DrJson *json)
{
  pop (json, LEVEL_OBJECT, '}');
}

void
dr_json_begin_array (DrJson *json)
{
  push (json, LEVEL_ARRAY, '[');
}

void
dr_json_end_array (DrJson *json)
{
  pop (json, LEVEL_ARRAY, ']');
}

void
dr_json_append_escaped (GString *out, const char *text)
{
  g_autofree char *valid = NULL;

  /* D-Bus strings are valid UTF-8 already; this is for anything else. */
  if (!g_utf8_validate (text, -1, NULL))
    text = valid = g_utf8_make_valid (text, -1);

  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      unsigned char c = (unsigned char) *p;

      switch (c)
        {
          case '"':
            g_string_append (out, "\\\"");
            break;
          case '\\':
            g_string_append (out, "\\\\");
            break;
          case '\n':
            g_string_append (out, "\\n");
            break;
          case '\r':
            g_string_append (out, "\\r");
            break;
          case '\t':
            g_string_append (out, "\\t");
            break;
          case '\b':
            g_string_append (out, "\\b");
            break;
          case '\f':
            g_string_append (out, "\\f");
            break;
          default:
            if (c < 0x20 || c == 0x7f)
              g_string_append_printf (out, "\\u%04x", c);
            else if (c == 0xe2 && (unsigned char) p[1] == 0x80
                     && ((unsigned char) p[2] == 0xa8 || (unsigned char) p[2] == 0xa9))
              {
                /* U+2028/2029 are valid JSON but end lines in JavaScript. */
                g_string_append (out, (unsigned char) p[2] == 0xa8 ? "\\u2028" : "\\u2029");
                p += 2;
              }
            else
              g_string_append_c (out, (char) c);
        }
    }
  g_string_append_c (out, '"');
}

void
dr_json_key (DrJson *json, const char *key)
{
  g_return_if_fail (json->stack->len > 0
                    && g_array_index (json->stack, Level, json->stack->len - 1).kind
                           == LEVEL_OBJECT);
  before_item (json);
  dr_json_append_escaped (json->out, key);
  g_string_append (json->out, json->pretty ? ": " : ":");
  json->after_key = TRUE;
}

void
dr_json_string (DrJson *json, const char *value)
{
  if (value == NULL)
    {
      dr_json_null (json);
      return;
    }
  before_item (json);
  dr_json_append_escaped (json->out, value);
}

void
dr_json_int (DrJson *json, gint64 value)
{
  before_item (json);
  g_string_append_printf (json->out, "%" G_GINT64_FORMAT, value);
}

void
dr_json_uint (DrJson *json, guint64 value)
{
  before_item (json);
  g_string_append_printf (json->out, "%" G_GUINT64_FORMAT, value);
}

void
dr_json_double (DrJson *json, double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (!isfinite (value))
    {
      dr_json_null (json);
      return;
    }
  before_item (json);
  /* Shortest of %.15g/%.17g that reads back exactly: 0.1 stays "0.1". */
  g_ascii_formatd (buf, sizeof buf, "%.15g", value);
  if (g_ascii_strtod (buf, NULL) != value)
    g_ascii_formatd (buf, sizeof buf, "%.17g", value);
  g_string_append (json->out, buf);
  /* "1" is a valid JSON number, and so is "1e+20"; nothing to add. */
}

void
dr_json_number_text (DrJson *json, const char *text)
{
  before_item (json);
  g_string_append (json->out, text);
}

void
dr_json_bool (DrJson *json, gboolean value)
{
  before_item (json);
  g_string_append (json->out, value ? "true" : "false");
}

void
dr_json_null (DrJson *json)
{
  before_item (json);
  g_string_append (json->out, "null");
}

void
dr_json_variant (DrJson *json, GVariant *value)
{
  const GVariantType *type = g_variant_get_type (value);

  switch (g_variant_classify (value))
    {
      case G_VARIANT_CLASS_BOOLEAN:
        dr_json_bool (json, g_variant_get_boolean (value));
        break;
      case G_VARIANT_CLASS_BYTE:
        dr_json_uint (json, g_variant_get_byte (value));
        break;
      case G_VARIANT_CLASS_INT16:
        dr_json_int (json, g_variant_get_int16 (value));
        break;
      case G_VARIANT_CLASS_UINT16:
        dr_json_uint (json, g_variant_get_uint16 (value));
        break;
      case G_VARIANT_CLASS_INT32:
        dr_json_int (json, g_variant_get_int32 (value));
        break;
      case G_VARIANT_CLASS_UINT32:
        dr_json_uint (json, g_variant_get_uint32 (value));
        break;
      case G_VARIANT_CLASS_INT64:
        dr_json_int (json, g_variant_get_int64 (value));
        break;
      case G_VARIANT_CLASS_UINT64:
        dr_json_uint (json, g_variant_get_uint64 (value));
        break;
      case G_VARIANT_CLASS_HANDLE:
        dr_json_int (json, g_variant_get_handle (value));
        break;
      case G_VARIANT_CLASS_DOUBLE:
        dr_json_double (json, g_variant_get_double (value));
        break;
      case G_VARIANT_CLASS_STRING:
      case G_VARIANT_CLASS_OBJECT_PATH:
      case G_VARIANT_CLASS_SIGNATURE:
        dr_json_string (json, g_variant_get_string (value, NULL));
        break;
      case G_VARIANT_CLASS_VARIANT:
        {
          g_autoptr (GVariant) inner = g_variant_get_variant (value);
          dr_json_variant (json, inner);
          break;
        }
      case G_VARIANT_CLASS_MAYBE:
        {
          g_autoptr (GVariant) inner = g_variant_get_maybe (value);
          if (inner == NULL)
            dr_json_null (json);
          else
            dr_json_variant (json, inner);
          break;
        }
      case G_VARIANT_CLASS_ARRAY:
        if (g_variant_type_is_dict_entry (g_variant_type_element (type))
            && g_variant_type_equal (g_variant_type_key (g_variant_type_element (type)),
                                     G_VARIANT_TYPE_STRING))
          {
            GVariantIter iter;
            const char *key;
            GVariant *member;

            dr_json_begin_object (json);
            g_variant_iter_init (&iter, value);
            while (g_variant_iter_next (&iter, "{&s@*}", &key, &member))
              {
                dr_json_key (json, key);
                dr_json_variant (json, member);
                g_variant_unref (member);
              }
            dr_json_end_object (json);
            return;
          }
        G_GNUC_FALLTHROUGH;
      case G_VARIANT_CLASS_TUPLE:
      case G_VARIANT_CLASS_DICT_ENTRY:
        {
          GVariantIter iter;
          GVariant *child;

          dr_json_begin_array (json);
          g_variant_iter_init (&iter, value);
          while ((child = g_variant_iter_next_value (&iter)) != NULL)
            {
              dr_json_variant (json, child);
              g_variant_unref (child);
            }
          dr_json_end_array (json);
          return;
        }
      default:
        {
          g_autofree char *text = g_variant_print (value, FALSE);
          dr_json_string (json, text);
          break;
        }
    }
}

void
dr_json_member_string (DrJson *json, const char *key, const char *value)
{
  dr_json_key (json, key);
  dr_json_string (json, value);
}

void
dr_json_member_int (DrJson *json, const char *key, gint64 value)
{
  dr_json_key (json, key);
  dr_json_int (json, value);
}

void
dr_json_member_uint (DrJson *json, const char *key, guint64 value)
{
  dr_json_key (json, key);
  dr_json_uint (json, value);
}

void
dr_json_member_double (DrJson *json, const char *key, double value)
{
  dr_json_key (json, key);
  dr_json_double (json, value);
}

void
dr_json_member_bool (DrJson *json, const char *key, gboolean value)
{
  dr_json_key (json, key);
  dr_json_bool (json, value);
}
