mod auto;
