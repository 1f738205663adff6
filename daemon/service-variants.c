/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* service-variants.c: store rows to Manager1's GVariants.
 *
 * Safe on any thread: the service builds them on the store worker's, next
 * to the query, so that the main loop only sends them.
 */
#include "service-variants.h"

#include "household.h"

GVariant *
dr_sessions_to_variant (GPtrArray *sessions)
{
  GVariantBuilder builder;

  g_return_val_if_fail (sessions != NULL, NULL);

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(tsxxd)"));
  for (guint i = 0; i < sessions->len; i++)
    {
      const DrStoreSession *s = g_ptr_array_index (sessions, i);

      g_variant_builder_add (&builder, "(tsxxd)", (guint64) s->id, s->address, (gint64) s->start_ms,
                             (gint64) s->end_ms, s->mean_coverage);
    }
  return g_variant_builder_end (&builder);
}

GVariant *
dr_person_sessions_to_variant (GPtrArray *sessions)
{
  GVariantBuilder builder;

  g_return_val_if_fail (sessions != NULL, NULL);

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(tsxxdo)"));
  for (guint i = 0; i < sessions->len; i++)
    {
      const DrStoreSession *s = g_ptr_array_index (sessions, i);
      g_autofree char *person = dr_person_object_path (s->person_id);

      g_variant_builder_add (&builder, "(tsxxdo)", (guint64) s->id, s->address,
                             (gint64) s->start_ms, (gint64) s->end_ms, s->mean_coverage, person);
    }
  return g_variant_builder_end (&builder);
}

GVariant *
dr_coverage_to_variant (GPtrArray *zones)
{
  GVariantBuilder builder;

  g_return_val_if_fail (zones != NULL, NULL);

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{s(dddd)}"));
  for (guint i = 0; i < zones->len; i++)
    {
      const DrStoreZoneCoverage *z = g_ptr_array_index (zones, i);

      g_variant_builder_add (&builder, "{s(dddd)}", z->zone, z->coverage, z->passes, z->rolled_cm2,
                             z->peak_force_n);
    }
  return g_variant_builder_end (&builder);
}

GVariant *
dr_coverage_by_direction_to_variant (GPtrArray *zones)
{
  GVariantBuilder builder;

  g_return_val_if_fail (zones != NULL, NULL);

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{s(ddddd)}"));
  for (guint i = 0; i < zones->len; i++)
    {
      const DrStoreZoneCoverage *z = g_ptr_array_index (zones, i);
      const double *p = z->passes_by_direction;

      g_variant_builder_add (&builder, "{s(ddddd)}", z->zone, z->coverage,
                             p[DR_DIRECTION_HORIZONTAL], p[DR_DIRECTION_VERTICAL],
                             p[DR_DIRECTION_DIAGONAL], p[DR_DIRECTION_UNKNOWN]);
    }
  return g_variant_builder_end (&builder);
}

/* Only the details the event has, in this order, with the keys and
 * GVariant types Manager1.GetSessionEvents documents. */
static void
add_event_details (GVariantBuilder *details, const DrStoreEvent *event)
{
  if (event->details & DR_STORE_EVENT_ZONE)
    g_variant_builder_add (details, "{sv}", "zone", g_variant_new_string (event->zone));
  if (event->details & DR_STORE_EVENT_FORCE_N)
    g_variant_builder_add (details, "{sv}", "force-n", g_variant_new_double (event->force_n));
  if (event->details & DR_STORE_EVENT_LIMIT_N)
    g_variant_builder_add (details, "{sv}", "limit-n", g_variant_new_double (event->limit_n));
  if (event->details & DR_STORE_EVENT_PEAK_N)
    g_variant_builder_add (details, "{sv}", "peak-n", g_variant_new_double (event->peak_n));
  if (event->details & DR_STORE_EVENT_DURATION_MS)
    g_variant_builder_add (details, "{sv}", "duration-ms",
                           g_variant_new_int64 (event->duration_ms));
  if (event->details & DR_STORE_EVENT_LAST_TREATED_MS)
    g_variant_builder_add (details, "{sv}", "last-treated-ms",
                           g_variant_new_int64 (event->last_treated_ms));
  if (event->details & DR_STORE_EVENT_HEAD_ID)
    g_variant_builder_add (details, "{sv}", "head-id", g_variant_new_uint32 (event->head_id));
  if (event->details & DR_STORE_EVENT_WEAR)
    g_variant_builder_add (details, "{sv}", "wear", g_variant_new_double (event->wear));
  if (event->details & DR_STORE_EVENT_FRAMES)
    g_variant_builder_add (details, "{sv}", "frames", g_variant_new_uint32 (event->frames));
  if (event->details & DR_STORE_EVENT_PERSON)
    {
      g_autofree char *person = dr_person_object_path (event->person_id);
      g_variant_builder_add (details, "{sv}", "person", g_variant_new_object_path (person));
    }
}

GVariant *
dr_events_to_variant (GPtrArray *events)
{
  GVariantBuilder builder;

  g_return_val_if_fail (events != NULL, NULL);

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(xsa{sv})"));
  for (guint i = 0; i < events->len; i++)
    {
      const DrStoreEvent *event = g_ptr_array_index (events, i);
      GVariantBuilder details;

      g_variant_builder_init (&details, G_VARIANT_TYPE_VARDICT);
      add_event_details (&details, event);
      g_variant_builder_add (&builder, "(xsa{sv})", (gint64) event->time_ms, event->kind, &details);
    }
  return g_variant_builder_end (&builder);
}

GVariant *
dr_samples_to_variant (GArray *samples)
{
  GVariantBuilder builder;

  g_return_val_if_fail (samples != NULL, NULL);

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(xuqy)"));
  for (guint i = 0; i < samples->len; i++)
    {
      const DrStoreSample *s = &g_array_index (samples, DrStoreSample, i);

      g_variant_builder_add (&builder, "(xuqy)", (gint64) s->time_ms, (guint32) s->ticks,
                             (guint16) s->force_mn, (guchar) s->zone);
    }
  return g_variant_builder_end (&builder);
}
