;; The batch walk of a flat forest (flat-forest.ts), compiled to forest-walk.wasm.ts by
;; `npm run build:wasm`. One call walks one tree for a block of binned rows and adds each row's
;; leaf probabilities to its sums: the same additions, in the same order, as the JavaScript walk,
;; so the results are the same bits.
;;
;; Why WebAssembly: the JavaScript walk branches at every node, and about half of those branches
;; are mispredicted on real data. Here four rows go down the tree together and each step picks the
;; next node with `select` (no branch), so the four walks overlap; a leaf points to itself, so a
;; row that is done waits at its leaf until the other three are (measured in README.md).
;;
;; Memory (every address is a byte offset into the exported memory, set out by flat-forest.ts):
;;   node, 12 bytes:  +0 test: (feature << 9) | (bin + 1) for a split, 0 for a leaf
;;                    +4 the right child's address (a split) or its own address (a leaf)
;;                    +8 the address of its `k` class probabilities (a leaf; f64 each)
;;   A split's left child follows it (address + 12). A row goes right when its bin of the
;;   feature is above `bin`: (bin of feature) + 1 > (test & 511), unsigned. For a leaf the test
;;   is 0, so the row goes "right", to the leaf itself.
;;   rows:  `rows` rows of `d` bytes each (a row's bins, feature 0 first), from `xb`
;;   sums:  `rows` rows of `k` f64 each, from `sums`
(module
  (memory (export "memory") 1 65536)

  ;; sums[0..k) += proba[0..k)
  (func $add (param $proba i32) (param $sum i32) (param $k i32)
    (loop $class
      (f64.store (local.get $sum)
        (f64.add (f64.load (local.get $sum)) (f64.load (local.get $proba))))
      (local.set $sum (i32.add (local.get $sum) (i32.const 8)))
      (local.set $proba (i32.add (local.get $proba) (i32.const 8)))
      (br_if $class (local.tee $k (i32.sub (local.get $k) (i32.const 1))))))

  ;; Walks the tree at `root` for rows 0..rows-1 of `xb`, adding to `sums`. `k` >= 1.
  (func (export "walk")
    (param $root i32) (param $xb i32) (param $d i32) (param $rows i32)
    (param $sums i32) (param $k i32)
    (local $r i32) (local $rowBytes i32) (local $sumBytes i32)
    (local $n0 i32) (local $n1 i32) (local $n2 i32) (local $n3 i32)
    (local $t0 i32) (local $t1 i32) (local $t2 i32) (local $t3 i32)
    (local $x0 i32) (local $x1 i32) (local $x2 i32) (local $x3 i32) (local $s0 i32)
    (local.set $rowBytes (i32.shl (local.get $d) (i32.const 2)))
    (local.set $sumBytes (i32.shl (local.get $k) (i32.const 5)))
    (local.set $x0 (local.get $xb))
    (local.set $s0 (local.get $sums))
    ;; four rows at a time
    (block $tail
      (loop $group
        (br_if $tail (i32.gt_u (i32.add (local.get $r) (i32.const 4)) (local.get $rows)))
        (local.set $x1 (i32.add (local.get $x0) (local.get $d)))
        (local.set $x2 (i32.add (local.get $x1) (local.get $d)))
        (local.set $x3 (i32.add (local.get $x2) (local.get $d)))
        (local.set $n0 (local.get $root))
        (local.set $n1 (local.get $root))
        (local.set $n2 (local.get $root))
        (local.set $n3 (local.get $root))
        (block $leaves
          (loop $step
            (local.set $t0 (i32.load (local.get $n0)))
            (local.set $t1 (i32.load (local.get $n1)))
            (local.set $t2 (i32.load (local.get $n2)))
            (local.set $t3 (i32.load (local.get $n3)))
            (br_if $leaves
              (i32.eqz (i32.or (i32.or (local.get $t0) (local.get $t1))
                               (i32.or (local.get $t2) (local.get $t3)))))
            (local.set $n0 (select
              (i32.load offset=4 (local.get $n0))
              (i32.add (local.get $n0) (i32.const 12))
              (i32.gt_u
                (i32.add (i32.load8_u (i32.add (local.get $x0) (i32.shr_u (local.get $t0) (i32.const 9))))
                         (i32.const 1))
                (i32.and (local.get $t0) (i32.const 511)))))
            (local.set $n1 (select
              (i32.load offset=4 (local.get $n1))
              (i32.add (local.get $n1) (i32.const 12))
              (i32.gt_u
                (i32.add (i32.load8_u (i32.add (local.get $x1) (i32.shr_u (local.get $t1) (i32.const 9))))
                         (i32.const 1))
                (i32.and (local.get $t1) (i32.const 511)))))
            (local.set $n2 (select
              (i32.load offset=4 (local.get $n2))
              (i32.add (local.get $n2) (i32.const 12))
              (i32.gt_u
                (i32.add (i32.load8_u (i32.add (local.get $x2) (i32.shr_u (local.get $t2) (i32.const 9))))
                         (i32.const 1))
                (i32.and (local.get $t2) (i32.const 511)))))
            (local.set $n3 (select
              (i32.load offset=4 (local.get $n3))
              (i32.add (local.get $n3) (i32.const 12))
              (i32.gt_u
                (i32.add (i32.load8_u (i32.add (local.get $x3) (i32.shr_u (local.get $t3) (i32.const 9))))
                         (i32.const 1))
                (i32.and (local.get $t3) (i32.const 511)))))
            (br $step)))
        (call $add (i32.load offset=8 (local.get $n0)) (local.get $s0) (local.get $k))
        (call $add (i32.load offset=8 (local.get $n1))
          (i32.add (local.get $s0) (i32.shl (local.get $k) (i32.const 3))) (local.get $k))
        (call $add (i32.load offset=8 (local.get $n2))
          (i32.add (local.get $s0) (i32.shl (local.get $k) (i32.const 4))) (local.get $k))
        (call $add (i32.load offset=8 (local.get $n3))
          (i32.add (local.get $s0) (i32.mul (local.get $k) (i32.const 24))) (local.get $k))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (local.set $x0 (i32.add (local.get $x0) (local.get $rowBytes)))
        (local.set $s0 (i32.add (local.get $s0) (local.get $sumBytes)))
        (br $group)))
    ;; the last rows, one at a time
    (block $end
      (loop $row
        (br_if $end (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $n0 (local.get $root))
        (block $leaf
          (loop $step
            (local.set $t0 (i32.load (local.get $n0)))
            (br_if $leaf (i32.eqz (local.get $t0)))
            (local.set $n0 (select
              (i32.load offset=4 (local.get $n0))
              (i32.add (local.get $n0) (i32.const 12))
              (i32.gt_u
                (i32.add (i32.load8_u (i32.add (local.get $x0) (i32.shr_u (local.get $t0) (i32.const 9))))
                         (i32.const 1))
                (i32.and (local.get $t0) (i32.const 511)))))
            (br $step)))
        (call $add (i32.load offset=8 (local.get $n0)) (local.get $s0) (local.get $k))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (local.set $x0 (i32.add (local.get $x0) (local.get $d)))
        (local.set $s0 (i32.add (local.get $s0) (i32.shl (local.get $k) (i32.const 3))))
        (br $row)))))
