// Finds liblm through pkg-config (no crates: this runs offline) and tells cargo how to link it.
//   PKG_CONFIG       the pkg-config program (default "pkg-config")
//   PKG_CONFIG_PATH  where lm.pc is, e.g. $PREFIX/lib/pkgconfig after `make install PREFIX=...`
//   LM_STATIC=1      link liblm.a (with its private dependencies) instead of liblm.so
use std::env;
use std::process::Command;

fn main() {
    for var in ["PKG_CONFIG", "PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR", "PKG_CONFIG_SYSROOT_DIR", "LM_STATIC"] {
        println!("cargo:rerun-if-env-changed={}", var);
    }
    let pkg_config = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string());
    let static_link = env::var("LM_STATIC").map(|v| v == "1").unwrap_or(false);
    let mut cmd = Command::new(&pkg_config);
    cmd.arg("--libs");
    if static_link {
        cmd.arg("--static");
    }
    cmd.arg("lm");
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) => panic!("lm-sys: cannot run `{}` ({}): install pkg-config", pkg_config, e),
    };
    if !out.status.success() {
        panic!(
            "lm-sys: `{} --libs lm` failed: {}\nInstall liblm (`make install PREFIX=/some/prefix`) \
             and set PKG_CONFIG_PATH=/some/prefix/lib/pkgconfig",
            pkg_config,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let libs = String::from_utf8(out.stdout).expect("lm-sys: pkg-config printed non-UTF-8");
    for flag in libs.split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={}", dir);
            let archive = std::path::Path::new(dir).join("liblm.a");
            if static_link && archive.exists() {
                // a new liblm.a relinks the programs (a new liblm.so needs nothing)
                println!("cargo:rerun-if-changed={}", archive.display());
            }
            println!("cargo:libdir={}", dir); // DEP_LM_LIBDIR for crates that want an rpath
        } else if let Some(name) = flag.strip_prefix("-l") {
            if name == "lm" && static_link {
                println!("cargo:rustc-link-lib=static=lm");
            } else {
                println!("cargo:rustc-link-lib={}", name);
            }
        } else if flag == "-pthread" || flag == "-fopenmp" {
            println!("cargo:rustc-link-lib={}", if flag == "-pthread" { "pthread" } else { "gomp" });
        }
    }
}
