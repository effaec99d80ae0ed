//! Every VNN-LIB file in `../shared/networks` gives its input box, except the one
//! disjunction of boxes (ACAS Xu property 6), which is a clear error.

use relu_regions_io::{VnnlibError, parse_vnnlib_box};
use relu_regions_testkit::{files_with_extension, shared_networks};

#[test]
fn shared_vnnlib_boxes() {
    let Some(dir) = shared_networks() else { return };
    let files = files_with_extension(&dir, "vnnlib");
    assert!(files.len() >= 411, "{} files", files.len());
    let mut ok = 0;
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        match parse_vnnlib_box(&text) {
            Ok(b) => {
                assert!(b.lo.iter().zip(&b.hi).all(|(l, h)| l <= h));
                let family = f.strip_prefix(&dir).unwrap().components().next().unwrap();
                let expected = match family.as_os_str().to_str().unwrap() {
                    "acasxu" => Some(5),
                    "mnistfc" | "eran_mnist_relu_9_200" | "marabou_mnist" => Some(784),
                    "vnncomp_test_tiny" => Some(1),
                    _ => None,
                };
                if let Some(n) = expected {
                    assert_eq!(b.lo.len(), n, "{}", f.display());
                }
                ok += 1;
            }
            Err(VnnlibError::Disjunction { count, .. }) => {
                assert!(
                    f.ends_with("acasxu/vnnlib/prop_6.vnnlib"),
                    "{}",
                    f.display()
                );
                assert_eq!(count, 2);
            }
            Err(e) => panic!("{}: {e}", f.display()),
        }
    }
    assert_eq!(ok, files.len() - 1);
}
