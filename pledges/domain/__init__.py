"""The domain: the rules about pledges and signers that several features share (who a
signer is and how their links work, the one door for every change the wall counts, the
counters, a pledge's words in each language, countries and slugs). It imports no feature."""
