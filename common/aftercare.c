/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* aftercare.c: the aftercare advice table (see aftercare.h).
 *
 * Where the advice comes from, in short: the reviews of microneedling in
 * the dermatology literature (Alster & Graham, "Microneedling: a review
 * and practical guide", Dermatol Surg 2018; Iriarte et al., "Review of
 * applications of microneedling in dermatology", Clin Cosmet Investig
 * Dermatol 2017; Singh & Yadav, "Microneedling: advances and widening
 * horizons", Indian Dermatol Online J 2016) describe the same aftercare:
 * a soothing serum (hyaluronic acid) or mask, strict sun protection while
 * the skin is more sensitive to UV, redness that is expected and fades
 * (longer with longer needles, with pinpoint bleeding past 1 mm),
 * no make-up or irritating actives for a day to three, and a roller that
 * is cleaned and disinfected after every use. Each line below says which
 * of these it is.
 */
#include "aftercare.h"

/* The lines every class shares. Serum after: the channels take up a
 * topical for a few hours. Disinfection: after every use, with 70 %
 * isopropyl alcohol, dried and kept in the case (the reviews and the
 * rollers' instructions). Sun: microneedled skin is more sensitive to
 * UV, for days after shallow needling and about a week after deep. */
#define SERUM "Apply a hyaluronic acid serum or a soothing sheet mask now."
#define CLEAN                                                                                      \
  "Clean and disinfect the roller now (70 % isopropyl alcohol), let it dry and store it in its "   \
  "case."
#define SUN_DAYS                                                                                   \
  "Use sunscreen (SPF 30 or more) for the next days: the skin is more sensitive to the sun."
#define SUN_WEEK                                                                                   \
  "Use sunscreen (SPF 30 or more) and avoid direct sun for a week: the skin is more sensitive "    \
  "to the sun."

static const char *const aftercare[DR_AFTERCARE_N_CLASSES][6] = {
  /* ≤ 0.3 mm: the cosmetic roller, which barely passes the stratum
   * corneum; the reviews give it the lightest aftercare. */
  {
      /* Serum after: the channels take up a topical for a few hours. */
      SERUM,
      /* Sun protection: microneedled skin is more sensitive to UV. */
      SUN_DAYS,
      /* Erythema after superficial needling lasts hours, not days. */
      "Slight redness is normal and fades within a few hours.",
      /* Disinfect after every use (70 % isopropyl alcohol), dry, store. */
      CLEAN,
      NULL,
  },
  /* ≤ 0.5 mm */
  {
      /* Serum after, as above. */
      SERUM,
      /* Sun protection, as above. */
      SUN_DAYS,
      /* Erythema for a day or so at this depth. */
      "Redness for the first day is normal and fades.",
      /* Actives irritate open channels: retinoids and acids wait a day. */
      "No retinoids or acids (AHA, BHA, vitamin C) for 24 hours.",
      /* Disinfect after every use, as above. */
      CLEAN,
      NULL,
  },
  /* ≤ 1.0 mm: the reviews' medical range; redness for days. */
  {
      /* Serum after, as above. */
      SERUM,
      /* Sun protection for about a week at this depth. */
      SUN_WEEK,
      /* Erythema for 2-3 days is expected and resolves. */
      "Redness for the first two or three days is normal and fades.",
      /* No make-up or actives while the channels close (24-72 h). */
      "No make-up, retinoids or acids (AHA, BHA, vitamin C) for 48 hours.",
      /* Disinfect after every use, as above. */
      CLEAN,
      NULL,
  },
  /* > 1.0 mm, and a needle length not known. */
  {
      /* Serum after, as above. */
      SERUM,
      /* Sun protection for about a week, as above. */
      SUN_WEEK,
      /* Deep needling: pinpoint bleeding, redness and swelling for days. */
      "Pinpoint bleeding is possible; redness and swelling for the first days are normal and "
      "fade.",
      /* No make-up or actives for the longest span the reviews give. */
      "No make-up, retinoids or acids (AHA, BHA, vitamin C) for 72 hours.",
      /* Disinfect after every use, as above. */
      CLEAN,
      NULL,
  },
};

guint
dr_aftercare_class_for_needle (guint16 needle_length_um)
{
  if (needle_length_um == 0)
    return DR_AFTERCARE_N_CLASSES - 1;
  if (needle_length_um <= DR_AFTERCARE_COSMETIC_MAX_UM)
    return 0;
  if (needle_length_um <= DR_AFTERCARE_SHORT_MAX_UM)
    return 1;
  if (needle_length_um <= DR_AFTERCARE_MEDIUM_MAX_UM)
    return 2;
  return 3;
}

const char *const *
dr_aftercare_for_needle (guint16 needle_length_um)
{
  return aftercare[dr_aftercare_class_for_needle (needle_length_um)];
}
