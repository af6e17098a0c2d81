//! El Torito: boot record volume descriptor and boot catalog (El Torito 1.0, section 2).
