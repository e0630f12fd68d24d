
 €Æiö­dÔ pOI*?¸»ƒw©ÚÇûÃ)·ƒ«±„birnet-fuzz-msg01kontum/benhvien Àˆ½‚¡4(0