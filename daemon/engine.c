/* placeholder until the module lands */
typedef int dr_placeholder_engine;
